"""The preflight stage is no longer up to date when a host changed (its host key or its
machine-id), even when the spec did not (deepctl.preflight.identity)."""

from __future__ import annotations

from pathlib import Path

from deepctl.engine.runplan import make_plan
from deepctl.preflight import identity
from deepctl.preflight.collect import save_facts
from deepctl.preflight.model import HostFacts
from deepctl.stages.context import PlanContext
from deepctl.stages.preflight import PREFLIGHT
from deepctl.state.ledger import LedgerEntry
from deepctl.workspace import Workspace, open_workspace

SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  ssh: {user: root, identityFile: /nonexistent/key}
  hosts:
    - {name: cp1, address: 192.0.2.11, roles: [control-plane, etcd, worker]}
    - {name: wk1, address: 192.0.2.21, roles: [worker], ssh: {port: 2222}}
  addons: {gpu: {enabled: false}}
"""
KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"


def workspace(tmp_path: Path) -> Workspace:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return open_workspace(spec, tmp_path / "state")


def checked(ws: Workspace, keys: dict[str, str], machine_ids: dict[str, str]) -> None:
    """The state as a passed preflight leaves it: keys, facts, and the identity saved."""
    ws.state.known_hosts.write_text("".join(f"{n} {k}\n" for n, k in keys.items()))
    for host in ws.cluster.spec.hosts:
        save_facts(ws.state, host, HostFacts(machine_id=machine_ids[host.name]))
    identity.save_identity(ws.state, identity.current_identity(ws.cluster, ws.state))


def should_run(ws: Workspace, previous: str | None = "same", current: str | None = None
               ) -> tuple[bool, str]:
    """What the run's plan decides for preflight (the ledger holding ``previous``; the
    default: the hash the stage has now)."""
    ctx = PlanContext(ws, None)
    now = make_plan(ctx, "deploy", [PREFLIGHT], [], {}, "")["preflight"].inputs_hash
    digest = {"same": now, None: None}.get(previous, previous)
    ledger = {} if digest is None else {"preflight": LedgerEntry(digest, "t", "r1")}
    decision = make_plan(ctx, "deploy", [PREFLIGHT], [], ledger, "")["preflight"]
    return decision.runs, decision.reason


def test_identity_is_keys_and_machine_id_per_host(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    checked(ws, {"192.0.2.11": KEY_A, "[192.0.2.21]:2222": KEY_B, "192.0.2.21": KEY_A},
            {"cp1": "a" * 32, "wk1": "b" * 32})
    assert identity.load_identity(ws.state) == {
        "cp1": {"hostKeys": [KEY_A], "machineId": "a" * 32},
        "wk1": {"hostKeys": [KEY_B], "machineId": "b" * 32},  # its port's entry only
    }


def test_up_to_date_until_a_host_changes(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    assert should_run(ws) == (False, "up to date")  # nothing saved yet: no baseline
    checked(ws, {"192.0.2.11": KEY_A, "[192.0.2.21]:2222": KEY_B},
            {"cp1": "a" * 32, "wk1": "b" * 32})
    assert should_run(ws) == (False, "up to date")
    # cp1 reinstalled: its new key accepted (`deepctl preflight --accept-new-hosts`)
    ws.state.known_hosts.write_text(f"192.0.2.11 {KEY_B}\n[192.0.2.21]:2222 {KEY_B}\n")
    assert should_run(ws) == (True, "host changed since it was checked: cp1 (host key)")
    # and wk1's cloned machine-id fixed, seen by a later `deepctl preflight`
    save_facts(ws.state, ws.cluster.spec.hosts[1], HostFacts(machine_id="c" * 32))
    assert should_run(ws) == (
        True, "host changed since it was checked: cp1 (host key), wk1 (machine-id)")
    # the stage runs again and saves what it found: up to date once more
    identity.save_identity(ws.state, identity.current_identity(ws.cluster, ws.state))
    assert should_run(ws) == (False, "up to date")


def test_changed_inputs_still_decide_first(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    assert should_run(ws, None, "h") == (True, "never ran")
    assert should_run(ws, "old", "new") == (True, "inputs changed")
