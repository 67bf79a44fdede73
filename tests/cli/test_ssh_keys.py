"""The SSH key is checked once, locally, before any connection; a silent host times out
with its name. Hosts are loopback addresses where nothing (or a mute listener) answers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Run, Sandbox


def spec_text(key: Path, addresses: list[str], port: int = 22) -> str:
    hosts = "".join(
        f"    - name: n{i}\n      address: {a}\n      roles: "
        f"{'[control-plane, etcd, worker]' if i == 0 else '[worker]'}\n"
        for i, a in enumerate(addresses))
    return ("apiVersion: deepctl/v1alpha1\nkind: Cluster\nmetadata:\n  name: lab\nspec:\n"
            f"  ssh:\n    user: root\n    port: {port}\n    identityFile: {key}\n"
            f"  hosts:\n{hosts}  addons:\n    gpu: {{enabled: false}}\n")


@pytest.fixture
def key(sandbox: Sandbox) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    path = sandbox.home / "id_test"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


ADDRESSES = [f"127.0.0.{n}" for n in (251, 252, 253)]  # nothing listens there


def test_a_group_readable_key_is_one_error_at_its_line_before_any_connection(
        run_deepctl: Run, sandbox: Sandbox, key: Path) -> None:
    key.chmod(0o644)
    spec = sandbox.spec(spec_text(key, ADDRESSES))
    result = run_deepctl("preflight", str(spec), "--timeout", "1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("mode 0644") == 1, result.stderr  # once, not once per host
    assert f"{spec}:9:19: spec.ssh.identityFile: SSH key {key} has mode 0644" in result.stderr
    assert f"hint: chmod 600 {key}, then rerun" in result.stderr
    assert "n1" not in result.stdout + result.stderr  # no host was tried


@pytest.mark.parametrize("what", ["pub", "directory", "passphrase"])
def test_public_key_directory_and_passphrase_key_get_their_own_fix(
        run_deepctl: Run, sandbox: Sandbox, key: Path, what: str) -> None:
    if what == "pub":
        target = Path(f"{key}.pub")
        fragment = f"is a public key; fix: point identityFile at the private key ({key})"
    elif what == "directory":
        target, fragment = sandbox.home, "is a directory"
    else:
        key.unlink()
        Path(f"{key}.pub").unlink()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f",
                        str(key)], check=True)
        target, fragment = key, "protected by a passphrase and deepctl asks for none"
    env = {k: v for k, v in sandbox.env().items() if k != "SSH_AUTH_SOCK"}
    result = run_deepctl("preflight", str(sandbox.spec(spec_text(target, ADDRESSES))),
                         "--timeout", "1", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count(fragment) == 1, result.stderr
    if what == "passphrase":
        assert f"ssh-add {key}" in result.stderr


def test_validate_warns_about_a_key_openssh_would_refuse_and_strict_refuses(
        run_deepctl: Run, sandbox: Sandbox, key: Path) -> None:
    key.chmod(0o640)
    spec = sandbox.spec(spec_text(key, ADDRESSES))
    relaxed = run_deepctl("validate", str(spec), "--no-kubespray")
    assert relaxed.returncode == 0
    assert f"{spec}:9:19: warning: spec.ssh.identityFile: SSH key {key} has mode 0640" \
        in relaxed.stdout
    strict = run_deepctl("validate", str(spec), "--no-kubespray", "--strict")
    assert strict.returncode == 2
    assert f"{spec}:9:19: spec.ssh.identityFile: SSH key {key} has mode 0640" in strict.stderr


@pytest.fixture
def mute_listener() -> Iterator[tuple[str, int]]:
    """A loopback TCP listener that accepts and never says a word (no SSH banner)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_host_that_never_sends_a_banner_times_out_by_name_without_traceback(
        run_deepctl: Run, sandbox: Sandbox, key: Path, mute_listener: tuple[str, int]) -> None:
    address, port = mute_listener
    spec = sandbox.spec(spec_text(key, [address], port))
    result = run_deepctl("preflight", str(spec), "--timeout", "1", "--json")
    assert result.returncode == 3, result.stderr
    assert result.stderr == ""  # no paramiko traceback, no log line
    import json

    (finding,) = json.loads(result.stdout)["hosts"][0]["findings"]
    assert finding["message"] == (f"n0: root@{address}:{port}: no SSH banner within 1 s "
                                  "(the port accepts connections but no sshd answers)")
