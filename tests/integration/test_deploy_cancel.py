"""Ctrl-C, the cluster lock and terminal output of ``deepctl deploy`` (real subprocesses)."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from deepctl.engine.lock import acquire
from deepctl.state import StateDir
from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import DEEPCTL, deepctl, run_state, wait_for, write_spec

pytestmark = pytest.mark.integration


def processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args and int(cmdline.parent.name) != os.getpid():
            found.append(f"{cmdline.parent.name}: {args}")
    return found


def test_sigint_cancels_and_a_second_deploy_is_locked_out(ssh_host_farm: HostFarm,
                                                           tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    (tmp_path / "standin" / "sleep").write_text("60\n")
    first = subprocess.Popen([str(DEEPCTL), "deploy", str(spec), "--yes", "--skip", "preflight"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
    runs = tmp_path / ".deepctl" / "lab" / "runs"
    try:
        wait_for(lambda: any("TASK Sleep" in p.read_text() for p in runs.glob("*/deepctl.log")),
                 90)
        second = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
        assert second.returncode == 5, second.stdout + second.stderr
        assert f"locked by PID {first.pid} on " in second.stderr
        assert "resuming" not in second.stdout + second.stderr  # locked out before any note
        assert " since " in second.stderr

        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, out + err
    assert "canceled during stage kubespray" in err
    state = run_state(tmp_path)
    assert state["result"] == "canceled" and state["failed_stage"] == "kubespray"
    acquire(StateDir(tmp_path / ".deepctl" / "lab"), "test").release()  # the lock is free
    assert processes_mentioning(str(tmp_path)) == []


def test_progress_on_a_terminal_and_off_it(ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    pid, fd = pty.fork()
    if pid == 0:  # the child: deepctl on a terminal
        os.chdir(tmp_path)
        os.environ.update({"COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"})
        os.execv(str(DEEPCTL), [str(DEEPCTL), "deploy", str(spec), "--yes", "--skip",
                                "preflight"])
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "\x1b[" in text  # a live, redrawn display
    assert "✓" in text and "kubespray" in text and "deploy succeeded" in text

    plain = deepctl("deploy", str(spec), "--yes", "--restart", "--skip", "preflight",
                    cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "\x1b[" not in plain.stdout
    lines = plain.stdout.splitlines()
    assert any(line.endswith("[kubespray] TASK Record that cluster.yml ran on this host")
               for line in lines)
    assert all(line[:2].isdigit() for line in lines[:-1])  # timestamped
