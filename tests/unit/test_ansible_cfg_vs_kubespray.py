"""The ansible.cfg deepctl generates differs from Kubespray's own only where docs/deploy.md says.

Renders the run's ansible.cfg from the real Kubespray tree's (``DEEPCTL_TEST_KUBESPRAY``, or
``../shared/kubespray-v2.31.0``) and compares it setting by setting (``ssh_args`` option by
option) with the table "What deepctl changes in Kubespray's ansible.cfg" in docs/deploy.md.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
from pathlib import Path

import pytest

from deepctl.ansible.settings import read_base_cfg, render_ansible_cfg, settings_for
from deepctl.clusterspec.loader import load_spec_text
from deepctl.state import StateDir
from tests.specs import MINIMAL_SPEC

ROOT = Path(__file__).resolve().parents[2]
TREE = Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY") or ROOT.parent / "shared" / "kubespray-v2.31.0")
DOC = ROOT / "docs" / "deploy.md"
STATE = Path("/srv/deepctl/lab")  # rendering only: nothing is written there
ROW = re.compile(r"^\| `([^`]+)` \| (.+?) \| (.+?) \| (.+?) \|$")

pytestmark = pytest.mark.skipif(
    not (TREE / "ansible.cfg").is_file(),
    reason=f"the real Kubespray tree is not at {TREE} (set DEEPCTL_TEST_KUBESPRAY; CI does)",
)


def flatten(text: str) -> dict[str, str]:
    """``section.key`` -> value; ``ssh_args`` split into ``ssh_connection.ssh_args OPTION``."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    flat: dict[str, str] = {}
    for section in parser.sections():
        for key, value in parser.items(section, raw=True):
            if (section, key) == ("ssh_connection", "ssh_args"):
                words = shlex.split(value)
                for flag, option in zip(words[::2], words[1::2], strict=True):
                    assert flag == "-o", f"unexpected ssh_args word {flag!r}"
                    name, _, setting = option.partition("=")
                    flat[f"ssh_connection.ssh_args {name}"] = setting
            else:
                flat[f"{section}.{key}"] = value.strip()
    return flat


def generated_cfg() -> str:
    cluster = load_spec_text(MINIMAL_SPEC, Path("cluster.yaml")).cluster
    settings = settings_for(cluster, StateDir(STATE))
    return render_ansible_cfg(settings, read_base_cfg(TREE), TREE)


def documented() -> dict[str, tuple[str, str, str]]:
    """The table's rows: setting -> (Kubespray cell, deepctl cell, reason)."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("### What deepctl changes in Kubespray's ansible.cfg", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in table.splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    return rows


def cell_matches(cell: str, actual: str | None) -> bool:
    """``unset ...`` matches a missing setting; a `literal` the value (``...``: a prefix)."""
    if cell.startswith("unset"):
        return actual is None
    literal = re.fullmatch(r"`([^`]*)`", cell)
    if literal is None or actual is None:
        return False
    expected = literal.group(1).replace("<state>", str(STATE)).replace("<kubespray>", str(TREE))
    if "<" in expected:
        return True  # a described value (e.g. "<hosts, at most 50>")
    if expected.endswith("..."):
        return actual.startswith(expected.removesuffix("..."))
    return actual == expected


def test_every_difference_from_kubespray_is_documented_with_its_reason() -> None:
    stock = flatten((TREE / "ansible.cfg").read_text(encoding="utf-8"))
    ours = flatten(generated_cfg())
    differences = {key for key in stock.keys() | ours.keys() if stock.get(key) != ours.get(key)}
    rows = documented()
    assert differences - rows.keys() == set(), "differences docs/deploy.md does not list"
    assert rows.keys() - differences == set(), "rows in docs/deploy.md for settings that do not differ"
    for key in sorted(differences):
        kubespray_cell, deepctl_cell, reason = rows[key]
        assert cell_matches(kubespray_cell, stock.get(key)), (key, kubespray_cell, stock.get(key))
        assert cell_matches(deepctl_cell, ours.get(key)), (key, deepctl_cell, ours.get(key))
        assert len(reason.split()) >= 4, f"{key}: the reason is missing"


def test_timeout_and_connection_attempts_are_the_documented_changes() -> None:
    stock, ours = flatten((TREE / "ansible.cfg").read_text(encoding="utf-8")), flatten(generated_cfg())
    assert (stock["defaults.timeout"], ours["defaults.timeout"]) == ("300", "60")
    key = "ssh_connection.ssh_args ConnectionAttempts"
    assert (stock[key], ours[key]) == ("100", "3")
    assert documented()[key][:2] == ("`100`", "`3`")
