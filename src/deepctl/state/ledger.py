"""The stage ledger (``stages.json``): which stages finished, with which inputs.

A stage whose inputs hash equals its ledger entry is up to date and skipped. Entries are
keyed by the operation's ledger prefix and the stage's name (deploy's stages by their name,
add-node's as ``add-node/scale``...), so that a failed add-node resumes without touching
deploy's entries.
An entry may be established by another stage's run (``by``): add-node's ``scale`` brings the
cluster to what deploy's ``kubespray`` would make of the same inventory (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from deepctl.errors import StateError
from deepctl.state.documents import read_document, write_document
from deepctl.state.paths import StateDir


@dataclass(frozen=True)
class LedgerEntry:
    inputs_hash: str
    finished_at: str
    run_id: str
    by: str | None = None  # "command/stage" that established it, when not the stage itself


def _way_out(state: StateDir) -> str:
    return (f"remove {state.ledger_file} to run every stage again (finished stages are then "
            "re-run, which is safe), or deploy with --restart")


def load_ledger(state: StateDir) -> dict[str, LedgerEntry]:
    data = read_document(state.ledger_file, _way_out(state))
    if data is None:
        return {}
    stages = data.get("stages", {})
    if not isinstance(stages, dict):
        raise StateError(f"{state.ledger_file}: unreadable ('stages' is not an object)",
                         hint=_way_out(state))
    out: dict[str, LedgerEntry] = {}
    for key, entry in stages.items():
        try:
            out[str(key)] = LedgerEntry(str(entry["inputs_hash"]), str(entry["finished_at"]),
                                        str(entry["run_id"]), entry.get("by"))
        except (KeyError, TypeError, AttributeError):
            raise StateError(f"{state.ledger_file}: unreadable entry {key!r}",
                             hint=_way_out(state)) from None
    return out


def save_ledger(state: StateDir, entries: dict[str, LedgerEntry]) -> None:
    stages = {k: {f: v for f, v in asdict(e).items() if v is not None}
              for k, e in sorted(entries.items())}
    write_document(state.ledger_file, {"stages": stages})


def record_entry(state: StateDir, key: str, entry: LedgerEntry) -> None:
    entries = load_ledger(state)
    entries[key] = entry
    save_ledger(state, entries)


def forget(state: StateDir, keys: Iterable[str] | None = None, *, prefix: str | None = None
           ) -> None:
    """Forget finished stages (all, the ``keys``, or those whose key starts with ``prefix``)."""
    entries = load_ledger(state)
    if keys is None and prefix is None:
        entries = {}
    for key in list(keys or []):
        entries.pop(key, None)
    if prefix is not None:
        entries = {k: v for k, v in entries.items() if not k.startswith(prefix)}
    save_ledger(state, entries)
