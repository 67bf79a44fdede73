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
