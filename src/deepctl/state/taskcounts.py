"""How many tasks each playbook ran last time: the progress bar's total for the next run."""

from __future__ import annotations

from deepctl.state.documents import read_document, write_document
from deepctl.state.paths import StateDir


def load_task_counts(state: StateDir) -> dict[str, int]:
    data = read_document(state.task_counts_file,
                         f"remove {state.task_counts_file}; it only sizes the progress bar")
    if data is None:
        return {}
    counts = data.get("counts", {k: v for k, v in data.items() if k != "version"})
    if not isinstance(counts, dict):
        return {}
    return {str(k): int(v) for k, v in counts.items() if isinstance(v, int)}


def save_task_count(state: StateDir, key: str, count: int) -> None:
    counts = load_task_counts(state)
    counts[key] = count
    write_document(state.task_counts_file, {"counts": counts})
