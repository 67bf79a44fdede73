"""Pure parts of the engine's node operations and progress total: add-node's procedure,
GPU readiness parsing, remove-node refusals, ``--list-tasks`` counting, the version edit,
host-key failures and JSON-lines output."""

from __future__ import annotations

import io
import json
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import yaml

from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.runner import PlaybookResult
from deepctl.ansible.tasklist import TaskCounter, count_listed_tasks, list_tasks_argv
from deepctl.clusterspec.edit import set_kube_version_text
from deepctl.engine.display import JsonDisplay
from deepctl.engine.nodes import check_removal
from deepctl.engine.playbooks import failed_error
from deepctl.engine.progress import HostFailure, PlaybookProgress
from deepctl.errors import HostKeyMismatch, PlaybookFailed, SpecError, UsageError
from deepctl.stages.gpu_ready import gpu_allocatable
from deepctl.stages.sequences import add_node_stages
from deepctl.state import StateDir
from deepctl.workspace import open_workspace

LISTED = """
playbook: cluster.yml

  play #1 (k8s_cluster:etcd): Stand-in cluster.yml\tTAGS: []
    tasks:
      Read the stand-in's controls on the controller\tTAGS: []
      Sleep as the stand-in was told to\tTAGS: []
      kubernetes/preinstall : Flush handlers\tTAGS: [resolvconf]

  play #2 (kube_control_plane[0]): Stand-in kubeconfig_localhost\tTAGS: []
    tasks:
      Write admin kubeconfig on the controller\tTAGS: []
"""


def test_count_listed_tasks() -> None:
    assert count_listed_tasks(LISTED) == 4
    assert count_listed_tasks("\nplaybook: x.yml\n") is None
    assert list_tasks_argv("/v/ansible-playbook", Path("/ks/scale.yml"), Path("/s/inventory"),
                           limit="wk2", extravars_file=Path("/r/vars.json")) == [
        "/v/ansible-playbook", "-i", "/s/inventory", "--list-tasks", "/ks/scale.yml",
        "--limit", "wk2", "-e", "@/r/vars.json"]


def test_task_counter_reports_the_total_and_stops(tmp_path: Path) -> None:
    got: list[int] = []
    done = threading.Event()

    def on_total(total: int) -> None:
        got.append(total)
        done.set()

    script = f"print({LISTED!r})"
    counter = TaskCounter([sys.executable, "-c", script], {}, tmp_path, on_total)
    assert done.wait(20)
    counter.stop()
    assert got == [4]
    slow = TaskCounter([sys.executable, "-c", "import time; time.sleep(60)"], {}, tmp_path,
                       on_total)
    slow.stop()  # killed at once, no total
    assert got == [4]


class RecordingRunner:
    """Records the playbooks a stage asks for (the one boundary patched here)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def run(self, stage: str, playbook: str, *, limit: str | None = None,
            extravars: dict[str, Any] | None = None, on_event: Any = None,
            spread: Any = None) -> object:
        self.calls.append((stage, playbook, limit))
        return None

    def use(self, workspace: Any) -> None:
        raise AssertionError("not expected")


def test_add_node_follows_kubesprays_procedure() -> None:
    worker = add_node_stages("wk2", ["worker"])
    assert [s.name for s in worker] == ["preflight", "offline-ca", "facts", "scale", "spec",
                                         "gpu-ready", "verify"]  # in the spec once joined
    runner = RecordingRunner()
    small = SimpleNamespace(spec=SimpleNamespace(hosts=[]))  # large clusters: test_large_cluster.py
    ctx = cast(Any, SimpleNamespace(ansible=runner, cluster=small))
    for stage in worker[2:4]:
        stage.run(ctx)
    assert runner.calls == [("facts", "playbooks/facts.yml", None), ("scale", "scale.yml", "wk2")]
    assert worker[3].establishes == ("inventory", "kubespray", "kubeconfig")
    for roles in (["control-plane"], ["control-plane", "etcd", "worker"]):
        stages = add_node_stages("cp2", roles)
        assert [s.name for s in stages] == ["preflight", "offline-ca", "kubespray", "spec",
                                            "gpu-ready", "verify"]
        runner = RecordingRunner()
        stages[2].run(cast(Any, SimpleNamespace(ansible=runner)))
        assert runner.calls == [("kubespray", "cluster.yml", None)]


def test_gpu_allocatable() -> None:
    node = {"status": {"allocatable": {"cpu": "64", "nvidia.com/gpu": "8",
                                       "nvidia.com/mig-1g.10gb": "7", "x": "y"}}}
    assert gpu_allocatable(json.dumps(node)) == {"nvidia.com/gpu": 8,
                                                 "nvidia.com/mig-1g.10gb": 7}
    assert gpu_allocatable('{"status": {}}') == {}
    assert gpu_allocatable("Error from server (NotFound)") == {}


HOSTS = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab
spec:
  hosts:
{hosts}
  addons:
    gpu: {{enabled: false}}
"""


def workspace(tmp_path: Path, hosts: list[tuple[str, str]]) -> Path:
    lines = [f"    - {{name: {n}, address: 192.0.2.{10 + i}, roles: [{r}]}}"
             for i, (n, r) in enumerate(hosts)]
    spec = tmp_path / "cluster.yaml"
    spec.write_text(HOSTS.format(hosts="\n".join(lines)))
    return spec


def test_remove_node_refusals(tmp_path: Path) -> None:
    three = workspace(tmp_path, [("cp1", "control-plane, etcd, worker"),
                                 ("cp2", "control-plane, etcd, worker"),
                                 ("cp3", "control-plane, etcd, worker"), ("wk1", "worker")])
    original = three.read_text()
    ws = open_workspace(three, tmp_path / "state")
    assert "wk1" not in check_removal(ws, "wk1")
    with pytest.raises(UsageError, match="cp1 is the first control plane"):
        check_removal(ws, "cp1")
    with pytest.raises(SpecError, match="without cp3 the spec would be invalid") as even:
        check_removal(ws, "cp3")
    assert "odd number" in " ".join(p.message for p in even.value.problems)
    with pytest.raises(UsageError, match="no host named 'cp9'"):
        check_removal(ws, "cp9")
    assert three.read_text() == original  # checking writes nothing

    single = workspace(tmp_path, [("cp1", "control-plane, etcd, worker"), ("wk1", "worker")])
    with pytest.raises(UsageError, match="last control plane"):
        check_removal(open_workspace(single, tmp_path / "state"), "cp1")
    lone_etcd = workspace(tmp_path, [("cp1", "control-plane, worker"),
                                     ("cp2", "control-plane, worker"), ("e1", "etcd, worker")])
    with pytest.raises(UsageError, match=r"leaves 0 of 1 etcd member.*quorum"):
        check_removal(open_workspace(lone_etcd, tmp_path / "state"), "e1")


@pytest.mark.parametrize("text", [
    "spec:\n  kubernetes: {version: 1.34.7, networkPlugin: calico}  # pinned\n  hosts: []\n",
    'spec:\n  kubernetes: { networkPlugin: calico, version: "1.34.7" }\n',
    "spec:\n  kubernetes: {networkPlugin: calico}\n",
    "spec:\n  kubernetes:\n    version: 1.34.7  # pinned\n    networkPlugin: calico\n",
    "spec:\n  kubernetes:   # none yet\n  hosts: []\n",
])
def test_version_edit_keeps_everything_else(text: str) -> None:
    out = set_kube_version_text(text, "1.35.4")
    before, after = yaml.safe_load(text)["spec"], yaml.safe_load(out)["spec"]
    assert after["kubernetes"]["version"] == "1.35.4"
    assert {k: v for k, v in (after["kubernetes"] or {}).items() if k != "version"} == {
        k: v for k, v in (before["kubernetes"] or {}).items() if k != "version"}
    assert ("# pinned" in out) == ("# pinned" in text)
    assert len(out.splitlines()) - len(text.splitlines()) in (0, 1)


def test_flow_style_version_is_edited_in_place() -> None:
    text = "spec:\n  kubernetes: {version: 1.34.7, networkPlugin: calico}  # pinned\n"
    assert set_kube_version_text(text, "1.35.4") == (
        'spec:\n  kubernetes: {version: "1.35.4", networkPlugin: calico}  # pinned\n')


def test_refused_host_key_is_its_own_error(tmp_path: Path) -> None:
    result = PlaybookResult(rc=4, status="failed", stats={}, artifact_dir=tmp_path)
    state = StateDir(tmp_path / "state")
    refused = [HostFailure("cp1", "Stand-in work", "Failed to connect to the host via ssh: "
                           "Host key verification failed.", unreachable=True)]
    spec = tmp_path / "my specs" / "lab.yaml"
    error = failed_error("kubespray", "cluster.yml", result, refused, state, spec_path=spec)
    assert isinstance(error, HostKeyMismatch) and error.exit_code == 3
    assert "ssh refused the host key of cp1" in error.message
    assert str(state.known_hosts) in (error.hint or "")
    assert f"run `deepctl preflight '{spec}' --accept-new-hosts` to record the new key" \
        in (error.hint or "")
    # no key of cp1 was known at all (preflight never ran): not "reinstalled", but "record it"
    unknown = failed_error("kubespray", "cluster.yml", result, refused, state, spec_path=spec,
                           unknown_keys=frozenset({"cp1"}))
    assert isinstance(unknown, HostKeyMismatch) and unknown.exit_code == 3
    assert unknown.message == "cluster.yml failed on cp1: no SSH host key of cp1 is known yet"
    assert (unknown.hint or "").startswith(
        "deepctl records host keys when preflight first connects: run "
        f"`deepctl preflight '{spec}' --accept-new-hosts` to check the hosts and record their "
        "keys (trust on first use), then run this command again; ansible output: ")
    assert "reinstalled" not in (unknown.hint or "")
    # OpenSSH's changed-key banner, cut before its closing "Host key verification failed."
    cut = [HostFailure("cp1", "t", "Failed to connect to the host via ssh: @@@@ @ WARNING: "
                       "REMOTE HOST IDENTIFICATION HAS CHANGED! @ IT IS POSSIBLE THAT SOMEONE "
                       "IS DOING SOMETHING NASTY! Someone could be eavesdropping on…")]
    assert isinstance(failed_error("kubespray", "cluster.yml", result, cut, state,
                                   spec_path=spec), HostKeyMismatch)
    plain = failed_error("kubespray", "cluster.yml", result,
                         [HostFailure("wk1", "t", "boom")], state, spec_path=spec)
    assert type(plain) is PlaybookFailed
    assert plain.message == "cluster.yml failed on wk1 (rc 4): wk1: t: boom"
    # through a bastion, ssh drops the hop's stderr: deepctl reads what the hop logged
    closed = [HostFailure("cp1", "t", "Failed to connect to the host via ssh: "
                          "kex_exchange_identification: Connection closed", unreachable=True)]
    hop = failed_error("kubespray", "cluster.yml", result, closed, state,
                       ["@@@ WARNING", "Host key verification failed."], spec_path=spec)
    assert isinstance(hop, HostKeyMismatch)
    assert hop.message == ("cluster.yml failed on cp1: ssh refused the host key of the bastion "
                           "(spec.ssh.bastion) (through the bastion: @@@ WARNING; Host key "
                           "verification failed.)")
    down = failed_error("kubespray", "cluster.yml", result, closed, state,
                        ["ssh: connect to host 192.0.2.1 port 22: Connection refused"],
                        spec_path=spec)
    assert type(down) is PlaybookFailed and down.message.endswith(
        "(rc 4) (through the bastion: ssh: connect to host 192.0.2.1 port 22: Connection "
        "refused): cp1: t: Failed to connect to the host via ssh: kex_exchange_identification: "
        "Connection closed")


def test_bastion_hop_logs_its_errors_and_checks_keys(tmp_path: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(HOSTS.format(hosts="    - {name: cp1, address: 192.0.2.10, roles: "
                                 "[control-plane, etcd, worker]}").replace(
        "  hosts:", "  ssh: {user: ops, identityFile: /k/id, bastion: {address: 192.0.2.1, "
        "port: 2222}}\n  hosts:"))
    cluster = open_workspace(spec, tmp_path / "state").cluster
    settings = ansible_settings.settings_for(cluster, StateDir(Path("/s")))
    assert settings.bastion_log == Path("/s/bastion-ssh.log")
    assert settings.proxy_jump == (
        "-o ProxyCommand='ssh -W %h:%p -p 2222 -i /k/id -o UserKnownHostsFile=/s/known_hosts "
        "-o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes "
        "-E /s/bastion-ssh.log ops@192.0.2.1'")


def test_json_display_writes_one_object_per_line() -> None:
    out = io.StringIO()
    display = JsonDisplay(out)
    display.stages_planned([("preflight", "Check hosts"), ("kubespray", "Install")])
    progress = PlaybookProgress("cluster.yml")
    display.playbook_started("kubespray", progress)
    progress.total_tasks = 12
    display.playbook_total("kubespray", progress)
    display.message("two\nlines")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == [
        "stages_planned", "playbook_started", "playbook_total", "message"]
    assert events[0]["stages"][1] == {"stage": "kubespray", "title": "Install"}
    assert (events[1]["total_tasks"], events[2]["total_tasks"]) == (None, 12)


def test_a_failure_on_1000_hosts_names_them_in_one_summary(tmp_path: Path) -> None:
    result = PlaybookResult(rc=2, status="failed", stats={}, artifact_dir=tmp_path)
    failures = [HostFailure(f"gpu{i:04d}", "t", "boom") for i in range(1, 1001)]
    error = failed_error("kubespray", "cluster.yml", result, failures, StateDir(tmp_path / "s"),
                         spec_path=tmp_path / "c.yaml")
    assert error.message.startswith("cluster.yml failed on 1000 hosts: gpu[0001-1000] (rc 2)")
    assert "gpu0500" not in error.message
