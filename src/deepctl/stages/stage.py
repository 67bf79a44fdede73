"""The one kind of stage. Every command that changes a cluster is a list of these.

A :class:`Stage` is declared once, as one object in one module (k0sctl's phase is the model):

- ``name``, ``title``: how runs, plans and ``--from/--only/--skip`` name it;
- ``after``: stages it depends on (order and the "inputs changed" chain);
- ``enabled(cluster)``: whether the spec turns it on;
- ``describe(cluster)``: what it would do, for ``--dry-run``;
- ``hosts(cluster)``: the hosts it acts on (the plan names them; none: it works here);
- ``playbook``: the Kubespray playbook it runs, if any (the plan lists it);
- ``inputs(ctx)``: what it depends on; when unchanged since it succeeded, it is up to date;
- ``rerun(ctx)``: a reason to run even when up to date (an output is missing, a check that
  always runs), or None; asked once per command, when the plan is made;
- ``run(ctx)``: the work; ``cleanup(ctx)``: undo half-done work after a failure (optional);
- ``checks_only``: it changes nothing (preflight, verify); add-node, remove-node and upgrade
  may skip it and still finish;
- ``establishes``: stages of another command (the operation's ``establishes_in``) whose
  outcome this stage's success also reaches (add-node's ``scale`` reaches what deploy's
  ``kubespray`` would make of the same inventory);
- ``on_established(ctx)``: what to redo here when another stage establishes this one (the
  inventory stage publishes the rendering).

``inputs`` and ``rerun`` see a :class:`~deepctl.stages.context.PlanContext` (the spec, the
state, the tree): the engine asks them once, to make the run's plan, before anything runs.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deepctl.clusterspec.models import Cluster
from deepctl.errors import UsageError
from deepctl.stages.context import PlanContext, StageContext


def always(_: Cluster) -> bool:
    return True


def no_inputs(_: PlanContext) -> object:
    return None


def no_rerun(_: PlanContext) -> str | None:
    return None


def no_hosts(_: Cluster) -> list[str]:
    """A stage that works on this machine (the state directory, the spec file)."""
    return []


def every_host(cluster: Cluster) -> list[str]:
    return [h.name for h in cluster.spec.hosts]


def named(names: tuple[str, ...]) -> str:
    """The host add-node adds (``wk5``), or its batch summarised (``wk[5-8]``, names.summary)."""
    from deepctl.names import summary

    return names[0] if len(names) == 1 else summary(list(names), counted=False)


def first_control_plane(cluster: Cluster) -> list[str]:
    """Where deepctl asks the API (kubectl from Kubespray's ``bin_dir``)."""
    return [cluster.control_plane[0].name] if cluster.control_plane else []


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    describe: Callable[[Cluster], str]
    run: Callable[[StageContext], None]
    after: tuple[str, ...] = ()
    enabled: Callable[[Cluster], bool] = always
    hosts: Callable[[Cluster], list[str]] = no_hosts
    playbook: str | None = None
    inputs: Callable[[PlanContext], object] = no_inputs
    rerun: Callable[[PlanContext], str | None] = no_rerun
    cleanup: Callable[[StageContext], None] | None = None
    establishes: tuple[str, ...] = ()
    on_established: Callable[[StageContext], None] | None = None
    # Only checks, changes nothing (preflight, verify): no later stage builds on it, so a node
    # command may skip it and still be finished.
    checks_only: bool = False


def inputs_hash(inputs: object) -> str:
    """A stable hash of JSON-able inputs (key order does not matter)."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ordered(stages: Sequence[Stage]) -> list[Stage]:
    """Stages in dependency order (stable: list order among independent stages)."""
    names = {s.name for s in stages}
    done: list[Stage] = []
    placed: set[str] = set()
    remaining = list(stages)
    while remaining:
        for stage in remaining:
            if all(dep in placed or dep not in names for dep in stage.after):
                done.append(stage)
                placed.add(stage.name)
                remaining.remove(stage)
                break
        else:
            cycle = ", ".join(s.name for s in remaining)
            raise RuntimeError(f"stage dependencies form a cycle among: {cycle}")
    return done


def check_stage_names(names: Sequence[str], known: Sequence[str]) -> None:
    """:class:`UsageError` (with "did you mean") for a name that is not a stage of the command."""
    for name in names:
        if name not in known:
            from deepctl.clusterspec.rules import did_you_mean

            raise UsageError(f"unknown stage {name!r}{did_you_mean(name, set(known))}",
                             hint=f"stages are: {', '.join(known)}")


def stage_at(where: str) -> Stage:
    """The :class:`Stage` a module of ``deepctl.stages`` defines, named ``"module:NAME"``
    (as an entry point is): a command's sequence names each stage in one line, with no
    import to add. Anything but a Stage there is a ``TypeError`` when the sequence is built
    (at import, so every test and every command sees it)."""
    module, _, name = where.partition(":")
    value = getattr(importlib.import_module(f"deepctl.stages.{module}"), name)
    if not isinstance(value, Stage):
        raise TypeError(f"{where} is a {type(value).__name__}, not a Stage")
    return value
