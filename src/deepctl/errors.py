"""The one exception hierarchy of deepctl.

Every failure a person can act on is a :class:`DeepctlError` carrying a message, an optional
hint and the process exit code it maps to. The CLI turns these into output in exactly one
place (:mod:`deepctl.cli.support`); library code never prints errors or calls ``sys.exit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

Severity = Literal["error", "warning"]


class ExitCode:
    """Every exit code deepctl uses; each error class below names one (docs/exit-codes.md)."""

    OK = 0
    WARNINGS = 1  # status: degraded (under --strict a warning exits as the error it becomes)
    FAILED = 1  # a run or operation failed
    SPEC = 2  # the spec or the command line is invalid
    PREFLIGHT = 3  # host checks found errors
    API_UNREACHABLE = 4
    LOCKED = 5
    INTERNAL = 70
    CANCELED = 130


@dataclass(frozen=True)
class SpecProblem:
    """One problem found in a spec file, with where it is."""

    path: str  # field path, e.g. "spec.hosts[1].address"
    message: str
    severity: Severity = "error"
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def location(self) -> str:
        parts = [self.file or "<spec>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def format(self) -> str:
        where = f"{self.path}: " if self.path else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.location()}: {prefix}{where}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "severity": self.severity,
            "message": self.message,
        }


class DeepctlError(Exception):
    """Base of every error deepctl reports to a person."""

    exit_code: ClassVar[int] = ExitCode.FAILED
    kind: ClassVar[str] = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def details(self) -> dict[str, Any]:
        """Extra machine-readable fields for ``--json`` output."""
        return {}


class UsageError(DeepctlError):
    """A bad command-line argument."""

    exit_code = ExitCode.SPEC
    kind = "usage"


class SpecError(DeepctlError):
    """The spec file cannot be read, parsed or validated."""

    exit_code = ExitCode.SPEC
    kind = "spec"

    def __init__(
        self, message: str, problems: Sequence[SpecProblem] = (), hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.problems = list(problems)

    def details(self) -> dict[str, Any]:
        return {"problems": [p.to_json() for p in self.problems]}


class StateError(DeepctlError):
    """The state directory is unusable (corrupt, from a newer deepctl, not writable)."""

    kind = "state"


class KubesprayNotFound(DeepctlError):
    """No Kubespray tree could be found or fetched."""

    kind = "kubespray"


class AnsibleError(DeepctlError):
    """Ansible could not be run, or a playbook failed."""

    kind = "ansible"


class PreflightFailed(DeepctlError):
    """Host checks found errors."""

    exit_code = ExitCode.PREFLIGHT
    kind = "preflight"


class HostKeyError(DeepctlError):
    """An SSH host key is unknown or has changed."""

    exit_code = ExitCode.PREFLIGHT
    kind = "host-key"


class ApiUnreachable(DeepctlError):
    """The Kubernetes API cannot be reached."""

    exit_code = ExitCode.API_UNREACHABLE
    kind = "api"


class LockHeld(DeepctlError):
    """Another deepctl process holds the cluster lock."""

    exit_code = ExitCode.LOCKED
    kind = "locked"


class InternalError(DeepctlError):
    """An unexpected exception: a bug in deepctl (the CLI wraps it in this)."""

    exit_code = ExitCode.INTERNAL
    kind = "internal"


class Canceled(DeepctlError):
    """The user interrupted the operation."""

    exit_code = ExitCode.CANCELED
    kind = "canceled"


class SSHError(DeepctlError):
    """A host cannot be reached, refuses our key, or a command on it failed to run."""

    exit_code = ExitCode.PREFLIGHT
    kind = "ssh"

    def __init__(self, message: str, hint: str | None = None, *, reason: str = "connect") -> None:
        super().__init__(message, hint)
        self.reason = reason  # "connect" | "auth" | "bastion" | "timeout" | "exec"


class CommandTimeout(SSHError):
    """A remote command did not finish within its timeout."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, reason="timeout")


class JsonDetail(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class PlaybookFailed(AnsibleError):
    """A playbook failed on one or more hosts; carries what failed where."""

    def __init__(self, message: str, failures: Sequence[JsonDetail], stage: str,
                 artifact_dir: Path, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.failures = list(failures)
        self.stage = stage
        self.artifact_dir = artifact_dir

    def details(self) -> dict[str, Any]:
        return {"stage": self.stage, "failures": [f.to_json() for f in self.failures],
                "artifacts": str(self.artifact_dir)}


class HostKeyMismatch(PlaybookFailed, HostKeyError):
    """Ansible's ssh refused a host key (of a host, or of the bastion on the way)."""

    exit_code = ExitCode.PREFLIGHT
    kind = "host-key"


class ArtifactError(DeepctlError):
    """An air-gap artifact could not be downloaded, verified, copied or pushed."""

    kind = "artifacts"

    def __init__(
        self, message: str, hint: str | None = None, report: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, hint)
        self.report = report

    def details(self) -> dict[str, Any]:
        return {"report": self.report} if self.report is not None else {}


class InventoryImportError(DeepctlError):
    """A Kubespray inventory holds something a deepctl spec cannot express."""

    exit_code = ExitCode.SPEC
    kind = "import"

    def __init__(self, message: str, source: str, reasons: Sequence[str],
                 hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.reasons = list(reasons)
        self.problems = [SpecProblem("", reason, file=source) for reason in self.reasons]

    def details(self) -> dict[str, Any]:
        return {"reasons": self.reasons}
