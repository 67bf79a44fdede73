"""docs/spec.md is generated from the models: it must be current and name every field."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from ipaddress import IPv4Network
from pathlib import Path
from types import ModuleType
from typing import Literal

import pytest
from pydantic import BaseModel

from deepctl.clusterspec.docs import (
    default_text,
    field_type_text,
    spec_reference,
    type_text,
    walk,
    yaml_key,
)
from deepctl.clusterspec.models import Cluster, Host, KubernetesConfig, SSHConfig

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_spec_docs.py"
DOCS_SPEC = ROOT / "docs" / "spec.md"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_spec_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sections(text: str) -> dict[str, str]:
    """Markdown text split at '## ' headings: heading -> body."""
    out: dict[str, str] = {}
    for chunk in text.split("\n## ")[1:]:
        heading, _, body = chunk.partition("\n")
        out[heading.strip()] = body
    return out


def test_docs_spec_md_is_up_to_date() -> None:
    expected = load_generator().render()
    current = DOCS_SPEC.read_text(encoding="utf-8")
    assert current == expected, (
        "docs/spec.md is out of date with src/deepctl/clusterspec/models.py: "
        "run `.venv/bin/python scripts/gen_spec_docs.py` and commit the result"
    )


def test_check_mode_of_the_generator_passes() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def all_models() -> list[type[BaseModel]]:
    return [entry.model for entry in walk(Cluster)]


def test_every_model_and_field_appears_in_its_section() -> None:
    by_heading = sections(DOCS_SPEC.read_text(encoding="utf-8"))
    for model in all_models():
        assert model.__name__ in by_heading, f"no section for {model.__name__}"
        body = by_heading[model.__name__]
        for name, info in model.model_fields.items():
            row = f"| `{yaml_key(name, info)}` |"
            assert row in body, f"{model.__name__}.{name} missing from docs/spec.md"


def test_every_field_has_a_description() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in all_models()
        for name, info in model.model_fields.items()
        if not info.description
    ]
    assert missing == [], "add Field(description=...) in src/deepctl/clusterspec/models.py"


def test_walk_reaches_nested_models_with_their_yaml_paths() -> None:
    paths = {entry.model.__name__: entry.paths for entry in walk(Cluster)}
    assert paths["Cluster"] == ("",)
    assert paths["Host"] == ("spec.hosts[]",)
    assert paths["HostSSHConfig"] == ("spec.hosts[].ssh",)
    assert paths["ApiServerLoadBalancer"] == ("spec.kubernetes.apiServerLoadBalancer",)
    assert paths["NfsStorage"] == ("spec.addons.storage.nfs",)


@pytest.mark.parametrize(
    ("annotation", "text"),
    [
        (str, "string"),
        (bool, "boolean"),
        (IPv4Network, "IPv4 network"),
        (Literal["ipvs", "iptables"], "one of: `ipvs`, `iptables`"),
        (Literal["Cluster"], "`Cluster` (fixed)"),
        (list[Host], "list of [Host](#host)"),
        (dict[str, str], "map of string to string"),
        (SSHConfig | None, "[SSHConfig](#sshconfig) or null"),
    ],
)
def test_type_text(annotation: object, text: str) -> None:
    assert type_text(annotation) == text


def test_field_types_carry_their_constraints() -> None:
    assert field_type_text(SSHConfig.model_fields["port"]) == "integer 1-65535"
    assert field_type_text(Host.model_fields["roles"]) == (
        "list of values from: `control-plane`, `etcd`, `worker` (at least 1 entry)"
    )
    assert field_type_text(Host.model_fields["internal_address"]) == "IPv4 address or null"


def test_defaults_are_written_as_yaml() -> None:
    fields = KubernetesConfig.model_fields
    assert default_text(fields["pod_subnet"]) == "`10.233.64.0/18`"
    assert default_text(fields["api_server_load_balancer"]) == "`null`"
    assert default_text(SSHConfig.model_fields["become"]) == "`true`"
    assert default_text(SSHConfig.model_fields["identity_file"]) == "`~/.ssh/id_ed25519`"
    assert default_text(Host.model_fields["name"]) == ""  # required: no default


def test_table_cells_escape_pipes() -> None:
    text = spec_reference()
    assert "`^[0-9]+(ms\\|s\\|m\\|h\\|d\\|w\\|y)$`" in text
