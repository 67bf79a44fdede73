"""deepctl.clusterspec.loader: reading a spec file, defaults, and every problem at once with
file, line, column and field path."""

from __future__ import annotations

import os
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from deepctl.clusterspec.loader import MAX_SPEC_BYTES, format_path, load_spec, load_spec_text
from deepctl.errors import ExitCode, SpecError, SpecProblem
from tests.unit.conftest import SpecWriter


def problems_of(path: Path, *, strict: bool = False) -> list[SpecProblem]:
    with pytest.raises(SpecError) as info:
        load_spec(path, strict=strict)
    assert info.value.exit_code == ExitCode.SPEC == 2
    return info.value.problems


def test_defaults_fill_everything_but_name_and_hosts(write_spec: SpecWriter) -> None:
    path = write_spec(
        """\
        metadata: {name: lab}
        spec:
          hosts: [{name: cp1, address: 192.0.2.11, roles: [control-plane, etcd, worker]}]
        """
    )
    loaded = load_spec(path)
    spec = loaded.cluster.spec
    assert loaded.cluster.api_version == "deepctl/v1alpha1"
    assert loaded.cluster.kind == "Cluster"
    assert spec.kubespray.version == "v2.31.0" and spec.kubespray.path is None
    k8s = spec.kubernetes
    assert (k8s.version, k8s.network_plugin, k8s.proxy_mode, k8s.container_runtime) == (
        "1.35.4", "calico", "ipvs", "containerd"
    )
    assert k8s.pod_subnet == IPv4Network("10.233.64.0/18")
    assert k8s.service_subnet == IPv4Network("10.233.0.0/18")
    assert (k8s.node_prefix, k8s.dns_domain, k8s.api_server_load_balancer) == (
        24, "cluster.local", None
    )
    assert (spec.ssh.user, spec.ssh.port, spec.ssh.become, spec.ssh.bastion) == (
        "ubuntu", 22, True, None
    )
    # no host has gpu: true, so the GPU addon's default is off (a CPU-only spec passes --strict)
    assert spec.addons.gpu.enabled is False and spec.addons.gpu.operator_version == "v26.3.3"
    assert spec.addons.monitoring.enabled and not spec.addons.logging.enabled
    assert spec.kubespray_vars == {}
    host = spec.hosts[0]
    assert (host.gpu, host.labels, host.taints, host.internal_address) == (False, {}, [], None)
    # The GPU addon follows the hosts: none has a GPU, so it is off and nothing warns.
    assert loaded.warnings == []
    assert loaded.path == path.resolve()
    assert loaded.directory == path.resolve().parent
    assert loaded.data["metadata"] == {"name": "lab"}


def test_camel_case_keys_map_to_the_models(write_spec: SpecWriter, minimal_spec: str) -> None:
    path = write_spec(
        minimal_spec
        + "  kubernetes:\n    podSubnet: 10.10.0.0/16\n    nodePrefix: 25\n"
        + "  ssh:\n    identityFile: /keys/id\n"
    )
    spec = load_spec(path).cluster.spec
    assert spec.kubernetes.pod_subnet == IPv4Network("10.10.0.0/16")
    assert spec.kubernetes.node_prefix == 25
    assert spec.ssh.identity_file == Path("/keys/id")


def test_every_problem_is_reported_at_once_sorted_by_line(write_spec: SpecWriter) -> None:
    path = write_spec(
        """\
        apiVersion: deepctl/v1alpha1
        kind: Cluster
        metadata:
          name: Lab
        spec:
          ssh:
            port: none
          hosts:
            - name: cp1
              address: 192.0.2.11
              roles: [control-plane, etcd, worker]
            - name: cp1
              address: 192.0.2.11
              roles: [worker]
              gpu: true
          kuberntes: {}
        """
    )
    found = [(p.line, p.column, p.path) for p in problems_of(path)]
    assert found == [
        (4, 9, "metadata.name"),
        (7, 11, "spec.ssh.port"),
        (12, 13, "spec.hosts[1].name"),
        (13, 16, "spec.hosts[1].address"),
        (16, 3, "spec.kuberntes"),
    ]


def test_semantic_rules_still_run_next_to_type_errors(write_spec: SpecWriter) -> None:
    path = write_spec(
        """\
        metadata: {name: lab}
        spec:
          ssh: {port: 99999}
          hosts:
            - {name: cp1, address: 192.0.2.11, roles: [control-plane, worker]}
        """
    )
    messages = [p.format() for p in problems_of(path)]
    assert any("spec.ssh.port" in m and "65535" in m for m in messages)
    assert any("no host has the role 'etcd'" in m for m in messages)


def test_problem_format_is_file_line_column_path_message(write_spec: SpecWriter) -> None:
    path = write_spec("metadata: {name: lab}\nspec: {hosts: [], foo: 1}\n")
    formatted = [p.format() for p in problems_of(path)]
    assert f"{path}:2:15: spec.hosts: List should have at least 1 item" in formatted[0]
    assert formatted[1].startswith(f"{path}:2:19: spec.foo: unknown key 'foo' (allowed: ")


def test_unknown_key_suggests_a_near_name(write_spec: SpecWriter, minimal_spec: str) -> None:
    path = write_spec(minimal_spec + "  ssh: {identityFle: /k}\n")
    (problem,) = problems_of(path)
    assert problem.message == "unknown key 'identityFle'; did you mean 'identityFile'?"
    assert (problem.line, problem.column) == (12, 9)


def test_missing_required_keys(write_spec: SpecWriter) -> None:
    path = write_spec("apiVersion: deepctl/v1alpha1\nkind: Cluster\nmetadata: {}\n")
    found = {(p.path, p.message, p.line) for p in problems_of(path)}
    assert found == {
        ("metadata.name", "missing required key 'name'", 3),
        ("spec", "missing required key 'spec'", 1),
    }


def test_strict_turns_warnings_into_errors(write_spec: SpecWriter, minimal_spec: str) -> None:
    text = minimal_spec.replace("gpu: {enabled: false}", "gpu: {enabled: true}")
    path = write_spec(text)
    assert [w.severity for w in load_spec(path).warnings] == ["warning"]
    (problem,) = problems_of(path, strict=True)
    assert problem.severity == "error"
    assert problem.message.endswith("(warning, error under --strict)")
    assert (problem.line, problem.column) == (11, 20)


def test_warnings_alone_do_not_fail_and_are_listed_with_errors(
    write_spec: SpecWriter, minimal_spec: str
) -> None:
    path = write_spec(minimal_spec.replace("gpu: {enabled: false}", "gpu: {enabled: true}")
                      + "  kubesprayVars: {kube_version: 1.2.3}\n")
    problems = problems_of(path)
    assert [p.severity for p in problems] == ["warning", "error"]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nope.yaml")
    assert info.value.message == f"{tmp_path / 'nope.yaml'}: no such file"
    # the hint runs as printed: it writes the very file that was missing
    assert info.value.hint == f"create it with `deepctl init -o {tmp_path / 'nope.yaml'}`"
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)
    assert "is a directory" in info.value.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(write_spec: SpecWriter, minimal_spec: str) -> None:
    path = write_spec(minimal_spec)
    path.chmod(0)
    with pytest.raises(SpecError, match="permission denied"):
        load_spec(path)


def test_a_bom_alone_is_fine(tmp_path: Path, minimal_spec: str) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + minimal_spec.encode())
    assert load_spec(path).cluster.name == "lab"


def test_a_bom_does_not_shift_positions(tmp_path: Path, minimal_spec: str) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + minimal_spec.replace("name: lab", "name: Lab").encode())
    (problem,) = problems_of(path)
    assert (problem.path, problem.line, problem.column) == ("metadata.name", 4, 9)


def test_non_utf8_bytes_report_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"metadata:\n  name: caf\xe9\n")
    (problem,) = problems_of(path)
    assert (problem.line, problem.column) == (2, 12)
    assert problem.message == "not UTF-8 text (byte 0xe9)"


def test_nul_bytes_mean_binary(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"metadata:\n  name: x\x00y\n")
    (problem,) = problems_of(path)
    assert problem.line == 2
    assert "NUL byte" in problem.message


def test_too_large_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as f:
        f.truncate(MAX_SPEC_BYTES + 1)  # sparse: costs no disk
    (problem,) = problems_of(path)
    assert problem.format() == f"{path}:1: file too large"


def test_tab_indentation_gets_a_hint(write_spec: SpecWriter) -> None:
    path = write_spec("metadata:\n\tname: lab\n")
    (problem,) = problems_of(path)
    assert (problem.line, problem.column) == (2, 1)
    assert problem.message.endswith("tab characters cannot indent YAML, use spaces")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n", "42\n"])
def test_the_document_must_be_a_mapping(write_spec: SpecWriter, text: str) -> None:
    (problem,) = problems_of(write_spec(text))
    assert (problem.line, problem.column) == (1, 1)
    assert "must be a YAML mapping" in problem.message


def test_load_spec_text_names_the_given_path(minimal_spec: str) -> None:
    loaded = load_spec_text(minimal_spec, Path("/nowhere/spec.yaml"))
    assert loaded.cluster.name == "lab"
    assert loaded.path == Path("/nowhere/spec.yaml")


def test_home_in_the_spec_path_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, minimal_spec: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "c.yaml").write_text(minimal_spec)
    assert load_spec("~/c.yaml").path == tmp_path / "c.yaml"


def test_format_path() -> None:
    assert format_path(()) == ""
    assert format_path(("spec", "hosts", 2, "labels", "a.b/c")) == "spec.hosts[2].labels.a.b/c"
    assert format_path((0, "x")) == "[0].x"
