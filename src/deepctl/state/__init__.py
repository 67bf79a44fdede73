"""The per-cluster state directory, typed: every path, every file format, in one place.

:mod:`.paths` names every file and folder (nothing outside this package builds a state path
by hand); :mod:`.documents` reads and writes the versioned JSON files and turns a corrupt or
newer file into a :class:`~deepctl.errors.StateError` naming the file and the way out;
:mod:`.ledger`, :mod:`.pending`, :mod:`.taskcounts`, :mod:`.runs`, :mod:`.record` and
:mod:`.retention` are the files themselves.
"""

from deepctl.state.paths import STATE_DIR_NAME, StateDir
from deepctl.state.types import RUN_RESULTS, STAGE_STATUSES, RunResult, StageStatus

__all__ = ["RUN_RESULTS", "STAGE_STATUSES", "STATE_DIR_NAME", "RunResult", "StageStatus", "StateDir"]
