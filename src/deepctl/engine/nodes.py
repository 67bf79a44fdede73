"""``add-node`` and ``remove-node``: change one host, leave the others alone.

add-node: the host is marked pending in the state (its entry kept there, not in the spec
file) and its stages run (:func:`~deepctl.stages.sequences.add_node_stages`) on the spec with
the host added in memory: preflight of the new host, Kubespray's documented procedure, then
``spec`` writes it into the spec file (comments kept, ``<spec>.bak`` beside it) once it has
joined, GPU readiness, verify. A failed add-node leaves the host pending, and says so; the
same add-node resumes it at the failed stage, ``remove-node`` drops it.

remove-node: refused before anything runs when it would remove the last or the first
control plane, break etcd quorum, or leave the spec invalid.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

from deepctl.clusterspec.edit import add_host_text, remove_host_text
from deepctl.clusterspec.loader import LoadedSpec, load_spec_text
from deepctl.engine.display import Display
from deepctl.engine.lock import cluster_lock
from deepctl.engine.runner import Ledgered
from deepctl.engine.session import (
    NO_SELECTION,
    Operation,
    Selection,
    plan_operation,
    run_operation,
)
from deepctl.errors import DeepctlError, SpecError, SpecProblem, UsageError
from deepctl.executor.target import keep_executor, with_executor
from deepctl.names import summary
from deepctl.shellwords import deepctl_command
from deepctl.ssh.spec_keys import require_usable_keys
from deepctl.stages.context import StageContext
from deepctl.stages.sequences import (
    DEPLOY_LEDGER_PREFIX,
    add_node_stages,
    deploy_stages,
    remove_node_stages,
)
from deepctl.stages.spec_change import spec_names_host
from deepctl.state.ledger import forget
from deepctl.state.paths import StateDir
from deepctl.state.pending import load_pending, set_pending
from deepctl.state.record import RunRecord, utc_now
from deepctl.state.runs import read_all
from deepctl.workspace import Workspace, open_workspace


def problems_on_disk(problems: list[SpecProblem], old_text: str, new_text: str, spec: str,
                     name: str) -> list[SpecProblem]:
    """``problems`` of ``new_text`` (``old_text`` with a host entry inserted) cited where they
    are in the file on disk (pure): a line after the entry moves up by its length, and a
    problem in the entry itself, which is not in the file, names the add-node options."""
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    added = len(new_lines) - len(old_lines)
    first = next((i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False))
                  if a != b), len(old_lines))  # 0-based index of the first inserted line
    out = []
    for problem in problems:
        if problem.line is None or problem.file != spec or problem.line <= first:
            out.append(problem)
        elif problem.line <= first + added:
            out.append(replace(problem, file=f"add-node --name {name} options", line=None,
                               column=None))
        else:
            out.append(replace(problem, line=problem.line - added))
    return out


def spec_with_host(ws: Workspace, entry: dict[str, Any]) -> tuple[str, LoadedSpec]:
    """The spec text with ``entry`` added, and what it loads to; every problem before anything
    is recorded, cited at lines of the file on disk."""
    old_text = ws.spec.path.read_text(encoding="utf-8")
    new_text = add_host_text(old_text, entry)
    try:
        return new_text, load_spec_text(new_text, ws.spec.path)
    except SpecError as error:
        hint = error.hint
        if "etcd" in entry.get("roles", []):
            hint = ("etcd needs an odd number of members, so add-node cannot add one: add two "
                    "etcd hosts to the spec and follow Kubespray's 'Adding an etcd node' "
                    "(docs/operations/nodes.md), or add this host without --role etcd")
        problems = problems_on_disk(error.problems, old_text, new_text, str(ws.spec.path),
                                    str(entry["name"]))
        if hint == error.hint and any(p.line is None and p.file != error.problems[i].file
                                      for i, p in enumerate(problems)):
            hint = (f"{ws.spec.path} is unchanged: fix the add-node options named above and "
                    "run it again")
        raise SpecError(f"with {entry['name']} added, the spec would be invalid: "
                        f"{error.message}", problems, hint) from None


def add_node_words(spec: Path, entry: dict[str, Any], state_dir: Path | None = None,
                   accept_new_hosts: bool = False) -> list[str | Path]:
    """The add-node command line that adds ``entry`` (pure): every option it was given
    (roles, GPU, labels, taints, SSH user and port...), without ``--yes``."""
    words: list[str | Path] = ["deepctl", "add-node", spec, "--name", str(entry["name"]),
                               "--address", str(entry["address"])]
    if entry.get("internalAddress"):
        words += ["--internal-address", str(entry["internalAddress"])]
    roles = list(entry.get("roles") or [])
    if roles != ["worker"]:
        words += [w for role in roles for w in ("--role", str(role))]
    if entry.get("gpu"):
        words.append("--gpu")
    words += [w for k, v in (entry.get("labels") or {}).items() for w in ("--label", f"{k}={v}")]
    words += [w for taint in entry.get("taints") or [] for w in ("--taint", str(taint))]
    ssh = entry.get("ssh") or {}
    if ssh.get("port") is not None:
        words += ["--ssh-port", str(ssh["port"])]
    if ssh.get("user") is not None:
        words += ["--ssh-user", str(ssh["user"])]
    if state_dir is not None:
        words += ["--state-dir", state_dir]
    return words + (["--accept-new-hosts"] if accept_new_hosts else [])


def given_state_dir(ws: Workspace) -> Path | None:
    """The ``--state-dir`` a command needs to find this workspace's state (None: default)."""
    default = StateDir.for_spec(ws.spec.path, ws.cluster.name).root
    return None if ws.state.root == default else ws.state.root


def add_node_operation(ws: Workspace, entry: dict[str, Any], *, accept_new_hosts: bool = False,
                       selection: Selection = NO_SELECTION) -> Operation:
    name = str(entry["name"])
    host = ws.cluster.host(name)
    assert host is not None, "the host is in the spec by now"

    def done(ctx: StageContext) -> None:
        set_pending(ctx.ws.state, name, None)

    return Operation(
        "add-node", add_node_stages(name, host.roles),
        shlex.join(str(w) for w in [*add_node_words(ws.spec.path, entry, given_state_dir(ws),
                                                   accept_new_hosts), "--yes"]),
        selection, params={"host": entry}, accept_new_hosts=accept_new_hosts, on_success=done,
        in_order=True, ledger_prefix="add-node/", forget_on_success=True,
        establishes_in=Ledgered(deploy_stages(), DEPLOY_LEDGER_PREFIX))


def pending_note(ws: Workspace, name: str) -> str:
    """What a pending host is, and the way to drop it, as a command that runs as printed."""
    return (f"{name} is not in {ws.spec.path}: add-node writes it there once it has joined; "
            f"until then it is pending in {ws.state.pending_file}. To drop it instead: "
            f"`{deepctl_command('remove-node', ws.spec.path, name)}`")


def prepare_add(ws: Workspace, entry: dict[str, Any], display: Display | None,
                write: bool, added: tuple[str, LoadedSpec] | None = None) -> Workspace:
    """The workspace the add-node runs on: the spec file with the host added in memory
    only (the ``spec`` stage writes it into the file once the host has joined). With
    ``write`` the host is recorded pending (outside the spec). Refuses a host already in the
    spec file unless it is still pending (joined, later stages to go: resumed). ``added``:
    the spec with the host, when already loaded (:func:`spec_with_host`)."""
    name = str(entry["name"])
    if ws.cluster.host(name) is not None:
        if name in load_pending(ws.state):
            return ws
        raise UsageError(f"host {name!r} is already in the spec and in the cluster",
                         hint="pick another --name, or remove it first with remove-node")
    _, loaded = added or spec_with_host(ws, entry)
    if write:
        require_usable_keys(ws.spec)  # before anything is recorded or any host contacted
        earlier = load_pending(ws.state).get(name) or {}
        set_pending(ws.state.create(), name,
                    {**earlier, "since": earlier.get("since", utc_now()), "entry": entry})
        if display is not None:
            display.message(f"{name} is pending in {ws.state.pending_file}: add-node writes it "
                            f"into {ws.spec.path} once it has joined")
    return keep_executor(Workspace(loaded, ws.state), ws)


def require_keys(ws: Workspace) -> None:
    """The spec's SSH keys are usable: checked before a host is recorded pending (add-node of
    a batch; :func:`prepare_add` for one host)."""
    require_usable_keys(ws.spec)


def refuse_fresh_selection(ws: Workspace, entry: dict[str, Any], selection: Selection,
                           added: tuple[str, LoadedSpec] | None = None) -> None:
    """A host not yet pending has no stage done: refuse names that are not add-node's stages
    and a selection that leaves out a stage the selected ones build on."""
    preview = prepare_add(ws, entry, None, write=False, added=added)
    op = add_node_operation(preview, entry, selection=selection)
    plan_operation(preview, None, op).refuse_out_of_order(None)


HOST_CHANGING = ("offline-ca", "facts", "scale", "kubespray")
TRIED = ("running", "succeeded", "failed", "canceled", "interrupted")


def join_tried(ws: Workspace, name: str) -> str | None:
    """The id of an add-node run of ``name`` that ran a stage beyond the checks (the host
    may be partly configured), or None: it was only checked, nothing on it changed."""
    marked = (load_pending(ws.state).get(name) or {}).get("changed_by")
    if marked:
        return str(marked)
    for run in read_all(ws.state):
        hosts = run.args.get("hosts") or [run.args.get("host") or {}]  # the entry, or a batch's
        if run.command == "add-node" and name in [h.get("name") for h in hosts] and any(
                run.stages[s].status in TRIED for s in HOST_CHANGING if s in run.stages):
            return run.id
    return None


def add_node(spec: Path, state_dir: Path | None, entry: dict[str, Any], display: Display,
             *, accept_new_hosts: bool = False, selection: Selection = NO_SELECTION,
             executor: str | None = None) -> RunRecord:
    ws = with_executor(open_workspace(spec, state_dir, create=False), executor)  # lock: creates
    name = str(entry["name"])
    pending = name in load_pending(ws.state)
    in_spec = ws.cluster.host(name) is not None
    # the spec with the host, loaded once for the checks and the run
    added = None if in_spec else spec_with_host(ws, entry)
    if selection.names() and not pending:
        refuse_fresh_selection(ws, entry, selection, added)  # before anything is recorded
    ws = prepare_add(ws, entry, display if not pending else None, write=True, added=added)
    op = add_node_operation(ws, entry, accept_new_hosts=accept_new_hosts, selection=selection)
    if pending:
        where = "it is in the spec" if in_spec else "it is not in the spec yet"
        op = replace(op, notes=(f"resuming add-node {name}: {where} and still pending",))
    try:
        return run_operation(ws, op, display)
    except DeepctlError as error:
        if name in load_pending(ws.state) and ws.cluster.host(name) is not None and not (
                spec_names_host(ws.spec.path, name)):
            tried = join_tried(ws, name)
            if tried:
                set_pending(ws.state, name, {**load_pending(ws.state)[name], "changed_by": tried})
            error.hint = "; ".join(p for p in (error.hint, pending_note(ws, name)) if p)
        raise


def check_removal(ws: Workspace, name: str) -> str:
    """The spec text without ``name``; refused when the removal would break the cluster.

    Refuses the last control plane, the first one (Kubespray cannot remove it), a removal
    that breaks etcd quorum, and one that leaves the spec invalid (an even number of etcd
    members, no worker left, an NFS server that is gone...).
    """
    host = ws.cluster.host(name)
    if host is None:
        raise UsageError(f"no host named {name!r} in {ws.spec.path}",
                         hint=f"hosts are: {summary([h.name for h in ws.cluster.spec.hosts])}")
    control = ws.cluster.control_plane
    if "control-plane" in host.roles and len(control) == 1:
        raise UsageError(f"{name} is the last control plane; removing it ends the cluster",
                         hint=f"use `{deepctl_command('reset', ws.spec.path)}` to tear the cluster down")
    members = len(ws.cluster.etcd)
    if "etcd" in host.roles and members - 1 < members // 2 + 1:
        raise UsageError(
            f"removing {name} leaves {members - 1} of {members} etcd member(s): etcd loses "
            "quorum", hint="add etcd members first (etcd needs 3 to lose one), then remove this one")
    if control[0].name == name:
        raise UsageError(
            f"{name} is the first control plane, which Kubespray cannot remove",
            hint=f"move {name} below the other control planes in spec.hosts, run "
            f"`{deepctl_command('deploy', ws.spec.path)}` (cluster.yml with the new order), then remove it "
            "(Kubespray docs/operations/nodes.md)")
    new_text = ws.spec.path.read_text(encoding="utf-8")
    if spec_names_host(ws.spec.path, name):  # else a pending host, only in the run's view
        new_text = remove_host_text(new_text, name)
    try:
        load_spec_text(new_text, ws.spec.path)
    except SpecError as error:
        raise SpecError(f"without {name} the spec would be invalid: {error.message}",
                        error.problems, "nothing was changed; see the problems above") from None
    return new_text


def remove_node_operation(ws: Workspace, name: str, force: bool,
                          selection: Selection = NO_SELECTION) -> Operation:
    check_removal(ws, name)

    def done(ctx: StageContext) -> None:  # a pending host dropped: its add-node is over
        if name in load_pending(ctx.ws.state):
            set_pending(ctx.ws.state, name, None)
            forget(ctx.ws.state, prefix="add-node")

    return Operation("remove-node", remove_node_stages(name, force),
                     deepctl_command("remove-node", ws.spec.path, name,
                                     *(["--force"] if force else []), "--yes"),
                     selection, params={"node": name, "force": force}, in_order=True,
                     ledger_prefix="remove-node/", forget_on_success=True,
                     establishes_in=Ledgered(deploy_stages(), DEPLOY_LEDGER_PREFIX),
                     on_success=done)


def with_pending_host(ws: Workspace, name: str) -> Workspace:
    """``ws``, or for a host pending outside the spec, ``ws`` with it added in memory."""
    entry = (load_pending(ws.state).get(name) or {}).get("entry")
    if ws.cluster.host(name) is not None or not isinstance(entry, dict):
        return ws
    return keep_executor(Workspace(spec_with_host(ws, entry)[1], ws.state), ws)


def pending_untouched(ws: Workspace, name: str) -> bool:
    """``name`` is pending outside the spec file and add-node only checked it: nothing on it
    changed, so dropping it is forgetting it."""
    return (name in load_pending(ws.state) and not spec_names_host(ws.spec.path, name)
            and join_tried(ws, name) is None)


def remove_node(spec: Path, state_dir: Path | None, name: str, display: Display,
                *, force: bool = False, selection: Selection = NO_SELECTION,
                executor: str | None = None) -> RunRecord | None:
    """Run remove-node; None when ``name`` was a pending host that add-node never changed
    (it is forgotten: no run, no host contacted)."""
    ws = with_executor(open_workspace(spec, state_dir, create=False), executor)  # lock: creates
    if pending_untouched(ws, name):
        with cluster_lock(ws.state, "remove-node"):
            if pending_untouched(ws, name):
                set_pending(ws.state, name, None)
                forget(ws.state, prefix="add-node")
                display.message(f"{name} was pending and add-node only checked it (nothing on "
                                f"it changed): forgotten; {ws.spec.path} is unchanged")
                display.close()
                return None
    ws = with_pending_host(ws, name)
    op = remove_node_operation(ws, name, force, selection)
    return run_operation(ws, op, display)
