"""Which stages a run considers, from ``--from``, ``--only`` and ``--skip`` (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from deepctl.errors import UsageError


@dataclass(frozen=True)
class StageChoice:
    name: str
    selected: bool
    reason: str | None = None  # why it is not selected


def select_stages(order: list[str], *, from_stage: str | None = None,
                  only: list[str] | None = None, skip: list[str] | None = None
                  ) -> list[StageChoice]:
    """Mark each stage of ``order`` selected or not, with the reason."""
    if only and from_stage:
        raise UsageError("--only and --from cannot be used together")
    skip_set = set(skip or [])
    only_set = set(only or [])
    _refuse_contradictions(order, from_stage, only_set, skip_set)
    reached = from_stage is None
    choices = []
    for name in order:
        reached = reached or name == from_stage
        if not reached:
            choices.append(StageChoice(name, False, f"before --from {from_stage}"))
        elif only_set and name not in only_set:
            choices.append(StageChoice(name, False, "not in --only"))
        elif name in skip_set:
            choices.append(StageChoice(name, False, "--skip"))
        else:
            choices.append(StageChoice(name, True))
    return choices


def _refuse_contradictions(order: list[str], from_stage: str | None, only: set[str],
                           skip: set[str]) -> None:
    """A selection that contradicts itself, or selects nothing, is a usage error."""
    both = [name for name in order if name in only and name in skip]
    if both:
        raise UsageError(f"--only and --skip both name {', '.join(both)}",
                         hint="name a stage in one of them, not both")
    if from_stage is not None and from_stage in skip:
        raise UsageError(f"--from {from_stage} is also in --skip",
                         hint=f"start from the stage after it, or drop --skip {from_stage}")
    start = order.index(from_stage) if from_stage in order else 0
    left = [n for n in order[start:] if (not only or n in only) and n not in skip]
    if not left:
        raise UsageError("this --from/--only/--skip selects no stage",
                         hint=f"stages, in order: {', '.join(order)}")


@dataclass(frozen=True)
class Unmet:
    """A selected stage that would run before an earlier one has succeeded."""

    stage: str
    missing: tuple[str, ...]  # the earlier stages neither selected nor done, in order


def unmet_before(order: list[str], required: set[str], selected: set[str], done: set[str]
                 ) -> list[Unmet]:
    """For an operation whose stages build on each other (add-node, remove-node, upgrade):
    each selected stage with an earlier ``required`` stage (enabled, not checks only) that is
    neither selected nor ``done`` (succeeded with the inputs it has now)."""
    out = []
    for index, name in enumerate(order):
        if name not in selected:
            continue
        missing = tuple(n for n in order[:index]
                        if n in required and n not in selected and n not in done)
        if missing:
            out.append(Unmet(name, missing))
    return out


def still_to_run(order: list[str], required: set[str], done: set[str]) -> list[str]:
    """The ``required`` stages of ``order`` that have not succeeded with their inputs of now."""
    return [n for n in order if n in required and n not in done]
