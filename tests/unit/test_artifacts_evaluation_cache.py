"""`artifacts list` keeps Kubespray's evaluated downloads between calls
(deepctl.artifacts.evaluation_cache): a second call for the same spec and tree runs no
Ansible; a changed variable, a changed Kubespray tree, another architecture or a file that
cannot be read back is a new evaluation. Ansible is stood in for by a recording function
that answers from the inventory it is given (the real evaluation, from the real Kubespray, is
tests/integration/test_artifacts_list_classes.py's)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from deepctl.artifacts import evaluation_cache, kubespray_items
from deepctl.clusterspec.loader import load_spec_text
from deepctl.kubespray.downloads import Download
from deepctl.kubespray.source import KubesprayTree
from deepctl.kubevars.render import render_hosts

SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  hosts:
    - {name: cp1, address: 192.0.2.11, roles: [control-plane, etcd]}
    - {name: gpu1, address: 192.0.2.31, roles: [worker], gpu: true}
    - {name: gpu2, address: 192.0.2.32, roles: [worker], gpu: true}
  kubesprayVars:
    runc_version: "%s"
"""


class RecordingAnsible:
    """Stands in for Ansible's evaluation: one item per host whose URL carries the
    ``runc_version`` the inventory sets (so a stale result would show)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, tree: Path, inventory: Path, hosts: Sequence[str],
                 architectures: Mapping[str, str] | None = None) -> dict[str, list[Download]]:
        self.calls.append(list(hosts))
        text = "".join(p.read_text() for p in sorted(inventory.parent.rglob("*.yml")))
        version = text.split("runc_version:", 1)[1].split()[0].strip("'\"")
        arch = dict(architectures or {})
        return {h: [Download("runc", False,
                             f"https://example.invalid/runc/v{version}/{arch.get(h, 'x86_64')}",
                             "ab" * 32, None, None, f"runc-{version}")] for h in hosts}


@pytest.fixture
def ansible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RecordingAnsible:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    recording = RecordingAnsible()
    monkeypatch.setattr(kubespray_items, "evaluate", recording)
    return recording


def tree(tmp_path: Path, defaults: str = "runc_version: 1.4.2\n") -> KubesprayTree:
    root = tmp_path / "kubespray"
    (root / "roles" / "kubespray_defaults" / "defaults").mkdir(parents=True, exist_ok=True)
    (root / "roles" / "kubespray_defaults" / "defaults" / "main.yml").write_text(defaults)
    return KubesprayTree(root, "spec", "v2.31.0")


def listed(tmp_path: Path, runc: str, kubespray: KubesprayTree,
           architectures: Mapping[str, str] | None = None) -> list[str]:
    cluster = load_spec_text(SPEC % runc, tmp_path / "c.yaml").cluster
    items = kubespray_items.evaluate_downloads(cluster, kubespray, architectures)
    return sorted(str(i.url) for i in items)


def test_a_second_call_runs_no_ansible_and_lists_the_same(
        tmp_path: Path, ansible: RecordingAnsible) -> None:
    kubespray = tree(tmp_path)
    first = listed(tmp_path, "1.4.2", kubespray)
    assert len(ansible.calls) == 1
    assert listed(tmp_path, "1.4.2", kubespray) == first
    assert len(ansible.calls) == 1
    assert first == ["https://example.invalid/runc/v1.4.2/x86_64"]
    kept = list((tmp_path / "cache" / "deepctl" / "downloads").glob("*.json"))
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o777 == 0o600


def test_a_changed_variable_is_a_new_evaluation(tmp_path: Path, ansible: RecordingAnsible) -> None:
    kubespray = tree(tmp_path)
    listed(tmp_path, "1.4.2", kubespray)
    assert listed(tmp_path, "1.4.3", kubespray) == ["https://example.invalid/runc/v1.4.3/x86_64"]
    assert len(ansible.calls) == 2
    listed(tmp_path, "1.4.2", kubespray)  # the first result is still kept
    assert len(ansible.calls) == 2


def test_a_changed_kubespray_tree_is_a_new_evaluation(
        tmp_path: Path, ansible: RecordingAnsible) -> None:
    listed(tmp_path, "1.4.2", tree(tmp_path))
    listed(tmp_path, "1.4.2", tree(tmp_path, "runc_version: 1.4.2\nrunc_extra: 1\n"))
    assert len(ansible.calls) == 2
    mode = tree(tmp_path).path / "roles" / "kubespray_defaults" / "defaults" / "main.yml"
    os.chmod(mode, 0o755)  # a mode is part of the tree too
    listed(tmp_path, "1.4.2", tree(tmp_path, "runc_version: 1.4.2\n"))
    assert len(ansible.calls) == 3


def test_another_architecture_is_a_new_evaluation(tmp_path: Path, ansible: RecordingAnsible) -> None:
    kubespray = tree(tmp_path)
    listed(tmp_path, "1.4.2", kubespray)
    arm = listed(tmp_path, "1.4.2", kubespray, {"gpu1": "aarch64", "gpu2": "aarch64"})
    assert len(ansible.calls) == 2
    assert arm == ["https://example.invalid/runc/v1.4.2/aarch64",
                   "https://example.invalid/runc/v1.4.2/x86_64"]


def test_a_kept_result_that_cannot_be_read_is_evaluated_again(
        tmp_path: Path, ansible: RecordingAnsible) -> None:
    kubespray = tree(tmp_path)
    listed(tmp_path, "1.4.2", kubespray)
    (kept,) = (tmp_path / "cache" / "deepctl" / "downloads").glob("*.json")
    for broken in ("{not json", '{"format": 1, "key": "other", "hosts": {}}',
                   json.dumps({"format": 1, "key": kept.stem, "hosts": {"cp1": [{"nam": 1}]}})):
        kept.write_text(broken)
        assert listed(tmp_path, "1.4.2", kubespray) == ["https://example.invalid/runc/v1.4.2/x86_64"]
    assert len(ansible.calls) == 4
    kept.parent.chmod(0o777)  # a directory others can write to is not trusted
    listed(tmp_path, "1.4.2", kubespray)
    assert len(ansible.calls) == 5


def test_the_key_covers_every_input() -> None:
    base = ("t1", {"hosts.yaml": "a"}, ["cp1"], {"cp1": "x86_64"}, "2.18.19")
    key = evaluation_cache.evaluation_key(*base)
    assert key == evaluation_cache.evaluation_key(*base)
    for changed in (("t2", *base[1:]), (base[0], {"hosts.yaml": "b"}, *base[2:]),
                    (*base[:2], ["cp1", "gpu1"], *base[3:]), (*base[:3], {"cp1": "aarch64"}, base[4]),
                    (*base[:4], "2.19.0"), (base[0], {**base[1], "group_vars/all/x.yml": ""}, *base[2:])):
        assert evaluation_cache.evaluation_key(*changed) != key  # type: ignore[arg-type]


def test_of_the_control_planes_only_the_download_delegate_is_evaluated(
        tmp_path: Path, ansible: RecordingAnsible) -> None:
    hosts = "".join(f"    - {{name: cp{i}, address: 192.0.2.1{i}, roles: [control-plane, etcd]}}\n"
                    for i in (2, 3))
    text = (SPEC % "1.4.2").replace("  kubesprayVars:", hosts + "  kubesprayVars:")
    cluster = load_spec_text(text, tmp_path / "c.yaml").cluster
    document = render_hosts(cluster)
    assert kubespray_items.representatives(document, {}) == ["cp1", "cp2", "cp3", "gpu1"]
    assert kubespray_items.evaluated_hosts(document, {}) == ["cp1", "gpu1"]
    assert kubespray_items.evaluated_hosts(document, {"gpu2": "aarch64"}) == ["cp1", "gpu1", "gpu2"]
    assert kubespray_items.evaluated_hosts(document, {}, own_delegate=True) == [
        "cp1", "cp2", "cp3", "gpu1"]
    kubespray = tree(tmp_path)
    kubespray_items.evaluate_downloads(cluster, kubespray)
    own = load_spec_text(text.replace("  kubesprayVars:\n", "  kubesprayVars:\n    download_delegate: cp3\n"),
                         tmp_path / "c.yaml").cluster
    kubespray_items.evaluate_downloads(own, kubespray)
    assert ansible.calls == [["cp1", "gpu1"], ["cp1", "cp2", "cp3", "gpu1"]]
