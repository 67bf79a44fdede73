"""The local SSH key check (deepctl.ssh.keyfile): pure verdicts on real ssh-keygen keys."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from deepctl.clusterspec.paths import anchored
from deepctl.ssh.keyfile import KeyFacts, inspect_key, is_encrypted, judge_key, public_blob

UID = os.getuid()


def keygen(path: Path, *, passphrase: str = "", kind: str = "ed25519", pem: bool = False) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    argv = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-f", str(path)]
    if pem:
        argv[2:2] = ["-m", "PEM", "-b", "2048"]
    subprocess.run(argv, check=True, capture_output=True)
    return path


def verdict(path: Path, *, agent: bool = False) -> tuple[str | None, str | None, bool]:
    v = judge_key(inspect_key(path), uid=UID, agent=agent)
    return v.problem, v.fix, v.encrypted


def test_a_private_key_with_mode_0600_is_usable(tmp_path: Path) -> None:
    key = keygen(tmp_path / "id")
    assert verdict(key) == (None, None, False)


def test_mode_0644_is_refused_as_openssh_does(tmp_path: Path) -> None:
    key = keygen(tmp_path / "id")
    key.chmod(0o644)
    problem, fix, _ = verdict(key)
    assert problem is not None and "mode 0644" in problem and "UNPROTECTED" in problem
    assert fix == f"chmod 600 {key}"


def test_a_key_owned_by_someone_else_is_not_judged_by_mode() -> None:
    facts = KeyFacts(Path("/k"), "file", 0o644, UID + 1, "-----BEGIN OPENSSH PRIVATE KEY-----")
    assert judge_key(facts, uid=UID, agent=False).problem is None  # as sshkey_perm_ok


def test_public_key_directory_and_missing_file_each_say_what_to_point_at(tmp_path: Path) -> None:
    key = keygen(tmp_path / "id")
    problem, fix, _ = verdict(Path(f"{key}.pub"))
    assert problem == f"SSH key {key}.pub is a public key"
    assert fix is not None and f"({key})" in fix
    problem, fix, _ = verdict(tmp_path)
    assert problem == f"SSH key {tmp_path} is a directory"
    problem, fix, _ = verdict(tmp_path / "nope")
    assert problem == f"SSH key {tmp_path / 'nope'} does not exist"
    (tmp_path / "notes").write_text("hello\n")
    (tmp_path / "notes").chmod(0o600)
    problem, _, _ = verdict(tmp_path / "notes")
    assert problem == f"SSH key {tmp_path / 'notes'} is not a private key"


def test_a_passphrase_key_needs_the_agent_and_is_never_prompted_for(tmp_path: Path) -> None:
    key = keygen(tmp_path / "id", passphrase="correct horse")
    problem, fix, encrypted = verdict(key)
    assert encrypted and problem is not None and "passphrase" in problem
    assert fix is not None and f"ssh-add {key}" in fix
    assert verdict(key, agent=True) == (None, None, True)


@pytest.mark.parametrize("pem", [False, True])
def test_encryption_and_public_key_are_read_without_the_passphrase(tmp_path: Path,
                                                                   pem: bool) -> None:
    kind = "rsa" if pem else "ed25519"
    plain = keygen(tmp_path / "plain", kind=kind, pem=pem)
    locked = keygen(tmp_path / "locked", passphrase="correct horse", kind=kind, pem=pem)
    assert not is_encrypted(plain.read_text())
    assert is_encrypted(locked.read_text())
    for key in (plain, locked):
        expected = subprocess.run(["ssh-keygen", "-y", "-P", "correct horse" if key == locked
                                   else "", "-f", str(key)], check=True, capture_output=True,
                                  text=True).stdout.split()[1]
        facts = inspect_key(key)
        assert public_blob(facts.head, facts.public_sibling) == base64.b64decode(expected)


def test_relative_key_paths_are_anchored_at_the_spec_directory() -> None:
    assert anchored(Path("keys/id"), Path("/spec")) == Path("/spec/keys/id")
    assert anchored(Path("~/.ssh/id"), Path("/spec")) == Path("~/.ssh/id")
    assert anchored(Path("/k/id"), Path("/spec")) == Path("/k/id")
