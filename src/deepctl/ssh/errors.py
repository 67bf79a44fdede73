"""SSH failures, as part of deepctl's one exception hierarchy."""

from __future__ import annotations

from deepctl.errors import DeepctlError, ExitCode


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
