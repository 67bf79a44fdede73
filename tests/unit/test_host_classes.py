"""Kubespray's inventory checks by equivalence class: the pure parts (classes, spreading a
representative's finding over its class, run_once tasks, progress after 2 s). The run both
ways with the real Kubespray is tests/cli/test_kubespray_validation.py."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from deepctl.kubespray.validate import (
    KubesprayCheckResult,
    KubesprayFailure,
    LateProgress,
    per_host_check,
    run_once_tasks,
    spread,
)
from deepctl.kubevars.host_classes import IDENTITY_VARS, HostClass, equivalence_classes, host_groups

KUBESPRAY = Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY")
                 or Path.home() / ".cache" / "deepctl" / "kubespray" / "v2.31.0")


def inventory() -> dict[str, object]:
    hosts = {f"n{i}": {"ansible_host": f"10.0.0.{i}", "ip": f"10.1.0.{i}",
                       "node_labels": {"rack": f"r{i % 2}"}} for i in range(8)}
    hosts["n5"]["kubelet_max_pods"] = 300  # a host whose variables differ
    hosts["n6"]["ansible_user"] = "admin"
    hosts["n7"]["ansible_user"] = "admin"
    return {"all": {
        "hosts": hosts,
        "vars": {"ansible_user": "ubuntu"},
        "children": {
            "kube_control_plane": {"hosts": {"n0": None, "n1": None}},
            "etcd": {"hosts": {"n0": None}},
            "kube_node": {"hosts": {f"n{i}": None for i in range(2, 8)}},
            "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
        },
    }}


def test_groups_include_parents_through_children() -> None:
    groups = host_groups(inventory())
    assert groups["n0"] == {"all", "kube_control_plane", "etcd", "k8s_cluster"}
    assert groups["n1"] == {"all", "kube_control_plane", "k8s_cluster"}
    assert groups["n4"] == {"all", "kube_node", "k8s_cluster"}


def test_classes_by_groups_and_variables_but_addresses_and_labels() -> None:
    assert equivalence_classes(inventory()) == [
        HostClass(("n0",)),  # etcd too
        HostClass(("n1",)),
        HostClass(("n2", "n3", "n4")),  # other addresses and racks: the same to the checks
        HostClass(("n5",)),  # kubelet_max_pods
        HostClass(("n6", "n7")),  # their own ansible_user
    ]
    # Every variable counted: each host its own class, in inventory order.
    assert [c.members for c in equivalence_classes(inventory(), frozenset())] == [
        (f"n{i}",) for i in range(8)]


def test_a_representatives_finding_holds_for_its_class_in_order() -> None:
    cls = HostClass(("n2", "n3", "n4"))
    failure = KubesprayFailure("Check x", "n2", "Assertion failed", "x")
    assert spread(failure, {"n2": cls}) == [
        KubesprayFailure("Check x", h, "Assertion failed", "x") for h in ("n2", "n3", "n4")]
    assert spread(failure, {}) == [failure]


def test_run_once_and_version_checks_are_not_spread() -> None:
    tasks = ("- name: Stop if even number of etcd hosts\n  assert: {that: x}\n  run_once: true\n"
             "- name: Check cloud_provider value\n  assert: {that: y}\n")
    run_once = run_once_tasks(tasks)
    assert run_once == {"Stop if even number of etcd hosts"}

    def event(task: str, play: str = "Kubespray inventory validation",
              role: str = "validate_inventory") -> dict[str, object]:
        return {"event": "runner_on_failed",
                "event_data": {"task": task, "play": play, "role": role}}

    assert per_host_check(event("Check cloud_provider value"), run_once)
    assert not per_host_check(event("Stop if even number of etcd hosts"), run_once)
    assert not per_host_check(event("Check that python netaddr is installed",
                                     play="Check Ansible version", role=""), run_once)


def test_one_line_per_finding_with_its_hosts_summarised() -> None:
    failures = [KubesprayFailure("Check x", f"gpu{i:04d}", "Assertion failed", "x == 1")
                for i in range(1, 1001)]
    failures.append(KubesprayFailure("Stop if etcd is even", "cp1", "even", None))
    result = KubesprayCheckResult(False, failures, Path("/x"), 3, 1003)
    assert result.problems() == [
        "Kubespray check 'Check x' failed for 1000 hosts: gpu[0001-1000]: Assertion failed "
        "(condition: x == 1)",
        "Kubespray check 'Stop if etcd is even' failed for cp1: even",
    ]


def test_progress_is_said_after_two_seconds_then_every_two() -> None:
    now = [100.0]
    shown: list[str] = []
    late = LateProgress(shown.append, clock=lambda: now[0])
    for t, text in [(100.5, "a"), (101.9, "b"), (102.1, "c"), (103.0, "d"), (104.2, "e")]:
        now[0] = t
        late.update(text)
    assert shown == ["c (2 s)", "e (4 s)"]


@pytest.mark.skipif(not (KUBESPRAY / "roles" / "validate_inventory").is_dir(),
                    reason=f"no Kubespray v2.31.0 tree at {KUBESPRAY}")
def test_kubespray_checks_read_none_of_the_variables_left_out_of_a_class() -> None:
    """What makes hosts of a class the same to Kubespray: its inventory checks (and the play
    deepctl runs them in) never name an address or a node label variable."""
    files = [KUBESPRAY / "roles" / r / "tasks" / "main.yml"
             for r in ("validate_inventory", "dynamic_groups")]
    files.append(KUBESPRAY / "playbooks" / "ansible_version.yml")
    text = "\n".join(f.read_text() for f in files)
    read = {name for name in IDENTITY_VARS if re.search(rf"\b{name}\b", text)}
    assert read == set()
