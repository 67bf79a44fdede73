"""spec.offline: shapes, paths relative to the spec file, rules, and the JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from deepctl.clusterspec.loader import load_spec
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.offline import Offline
from deepctl.clusterspec.schema import spec_json_schema
from deepctl.errors import SpecError
from tests.specs import MINIMAL_SPEC
from tests.tls_support import make_ca

NO_MONITORING = MINIMAL_SPEC.replace(
    "gpu: {enabled: false}", "gpu: {enabled: false}\n    monitoring: {enabled: false}")
WITH_LOGGING = MINIMAL_SPEC.replace(
    "gpu: {enabled: false}", "gpu: {enabled: false}\n    logging: {enabled: true}")
OFFLINE_BLOCK = """\
  offline:
    files: http://127.0.0.1:8080/files/
    registry: 127.0.0.1:5000
    charts: {charts}
"""


def offline(**fields: Any) -> Offline:
    base: dict[str, Any] = {"files": "http://127.0.0.1:8080/files", "registry": "127.0.0.1:5000"}
    return Offline.model_validate({**base, **fields})


def error_text(**fields: Any) -> str:
    with pytest.raises(ValidationError) as exc:
        offline(**fields)
    return str(exc.value)


def test_well_formed_values_are_kept_without_trailing_slash(tmp_path: Path) -> None:
    model = offline(files="https://mirror.lab:8443/files/", registry="mirror.lab:5000/kubespray/",
                    charts="https://mirror.lab/charts/", insecureRegistry=True)
    assert (model.files, model.registry, model.charts) == (
        "https://mirror.lab:8443/files", "mirror.lab:5000/kubespray", "https://mirror.lab/charts")
    assert model.insecure_registry is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"files": "ftp://mirror/files"}, "is not an http:// or https:// URL"),
        ({"files": "mirror.lab/files"}, "is not an http:// or https:// URL"),
        ({"files": "http://mirror/{{ lookup('pipe','id') }}"}, "braces"),
        ({"files": "http://user:pw@mirror/files"}, "credentials"),
        ({"files": "http://mirror:99999/files"}, "invalid port"),
        ({"registry": "https://mirror.lab:5000"}, "has a scheme"),
        ({"registry": "mirror lab"}, "is not host[:port][/path]"),
        ({"charts": "oci://ghcr.io/charts"}, "is not an http:// or https:// URL"),
        ({"charts": "/nonexistent/charts-dir"}, "neither an http(s) URL nor an existing directory"),
        ({"caFile": "/nonexistent/ca.pem"}, "no such file"),
    ],
)
def test_malformed_values_are_refused(fields: dict[str, Any], message: str) -> None:
    assert message in error_text(**fields)


def test_directories_are_relative_to_the_spec_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mirror" / "charts").mkdir(parents=True)
    make_ca(tmp_path / "mirror")
    spec = tmp_path / "cluster.yaml"
    spec.write_text(MINIMAL_SPEC + OFFLINE_BLOCK.format(charts="mirror/charts")
                    + "    caFile: mirror/ca.pem\n")
    monkeypatch.chdir("/")
    loaded = load_spec(spec).cluster.spec.offline
    assert loaded is not None
    assert loaded.charts == str(tmp_path / "mirror" / "charts")
    assert loaded.ca_file == tmp_path / "mirror" / "ca.pem"


def test_a_missing_charts_directory_is_reported_with_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(MINIMAL_SPEC + OFFLINE_BLOCK.format(charts="missing"))
    with pytest.raises(SpecError) as exc:
        load_spec(spec)
    problem = next(p for p in exc.value.problems if p.path == "spec.offline.charts")
    assert "neither an http(s) URL nor an existing directory" in problem.message
    assert str(tmp_path / "missing") in problem.message
    assert (problem.line, problem.column) == (MINIMAL_SPEC.count("\n") + 4, 13)


def test_charts_are_required_when_an_addon_is_on(tmp_path: Path) -> None:
    text = WITH_LOGGING
    spec = tmp_path / "cluster.yaml"
    spec.write_text(text + "  offline: {files: 'http://127.0.0.1/f', registry: '127.0.0.1:5000'}\n")
    with pytest.raises(SpecError) as exc:
        load_spec(spec)
    messages = [p.message for p in exc.value.problems]
    assert any("offline.charts is required while addons are on (monitoring, logging)" in m
               for m in messages), messages


def test_kubespray_vars_may_not_override_the_offline_settings(tmp_path: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(NO_MONITORING
                    + "  offline: {files: 'http://127.0.0.1/f', registry: '127.0.0.1:5000'}\n"
                    + "  kubesprayVars: {files_repo: 'http://elsewhere'}\n")
    with pytest.raises(SpecError) as exc:
        load_spec(spec)
    assert [p.path for p in exc.value.problems] == ["spec.kubesprayVars.files_repo"]


def test_without_addons_charts_may_be_left_out(tmp_path: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(NO_MONITORING
                    + "  offline: {files: 'http://127.0.0.1/f', registry: '127.0.0.1:5000'}\n")
    cluster: Cluster = load_spec(spec).cluster
    assert cluster.spec.offline is not None and cluster.spec.offline.charts is None


def test_the_json_schema_describes_offline() -> None:
    schema = spec_json_schema()
    definition = schema["$defs"]["Offline"]
    assert set(definition["properties"]) == {"files", "registry", "charts", "insecureRegistry", "caFile"}
    assert set(definition["required"]) == {"files", "registry"}


@pytest.mark.parametrize("content", [
    "not a certificate\n",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "<html>404 Not Found</html>\n",
])
def test_a_ca_file_without_a_pem_certificate_is_refused_at_its_line(
        tmp_path: Path, content: str) -> None:
    """Issue 27 §5: a caFile must parse as one or more certificates."""
    (tmp_path / "mirror" / "charts").mkdir(parents=True)
    (tmp_path / "mirror" / "ca.pem").write_text(content)
    spec = tmp_path / "cluster.yaml"
    spec.write_text(MINIMAL_SPEC + OFFLINE_BLOCK.format(charts="mirror/charts")
                    + "    caFile: mirror/ca.pem\n")
    with pytest.raises(SpecError) as exc:
        load_spec(spec)
    problem = next(p for p in exc.value.problems if p.path == "spec.offline.caFile")
    assert "holds no PEM certificate" in problem.message
    assert str(tmp_path / "mirror" / "ca.pem") in problem.message
    assert problem.line == MINIMAL_SPEC.count("\n") + 5


def test_a_bundle_of_several_certificates_is_accepted(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(make_ca(tmp_path / "a").cert.read_text()
                      + make_ca(tmp_path / "b").cert.read_text())
    assert offline(caFile=str(bundle)).ca_file == bundle
