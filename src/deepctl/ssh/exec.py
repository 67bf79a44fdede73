"""Run one command over an open SSH connection, with a deadline."""

from __future__ import annotations

import select
import time

import paramiko

from deepctl.errors import CommandTimeout, SSHError

_CHUNK = 65536
_POLL_S = 0.05  # stderr has no wake-up pipe; stdout and exit wake select() at once


def run_command(
    client: paramiko.SSHClient, cmd: str, timeout: float, stdin: str | None = None
) -> tuple[int, str, str]:
    """Run ``cmd`` on the host; return ``(exit status, stdout, stderr)``.

    ``stdin`` (if given) is written to the command and then closed, so a script can be sent
    as ``run_command(client, "sh -s", t, stdin=script)`` without any quoting. Raises
    :class:`CommandTimeout` when the command runs longer than ``timeout`` seconds, and
    :class:`SSHError` when no session can be opened.
    """
    transport = client.get_transport()
    if transport is None or not transport.is_active():
        raise SSHError("the SSH connection is closed", reason="exec")
    try:
        channel = transport.open_session(timeout=timeout)
    except (paramiko.SSHException, OSError) as exc:
        raise SSHError(f"cannot open an SSH session: {exc}", reason="exec") from None
    with channel:
        channel.exec_command(cmd)
        if stdin is not None:
            channel.sendall(stdin.encode("utf-8"))
        channel.shutdown_write()
        out, err = _drain(channel, time.monotonic() + timeout, cmd, timeout)
        status = channel.recv_exit_status()
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _drain(
    channel: paramiko.Channel, deadline: float, cmd: str, timeout: float
) -> tuple[bytes, bytes]:
    out: list[bytes] = []
    err: list[bytes] = []
    while True:
        busy = False
        if channel.recv_ready():
            out.append(channel.recv(_CHUNK))
            busy = True
        if channel.recv_stderr_ready():
            err.append(channel.recv_stderr(_CHUNK))
            busy = True
        if busy:
            continue
        finished = channel.exit_status_ready() and (channel.eof_received or channel.closed)
        if finished and not channel.recv_ready() and not channel.recv_stderr_ready():
            return b"".join(out), b"".join(err)
        left = deadline - time.monotonic()
        if left <= 0:
            first = cmd.split("\n", 1)[0][:60]
            raise CommandTimeout(f"command {first!r} did not finish within {timeout:g} s")
        select.select([channel], [], [], min(_POLL_S, left))
