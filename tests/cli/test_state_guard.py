"""The state directory cannot be subverted: links, foreign owners and writable directories
on the state path are refused with what to fix, and nothing outside it changes mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from deepctl.state import StateDir
from deepctl.state_guard import DirFacts, dir_problem
from tests.cli.conftest import Invoke, Sandbox


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def elsewhere(sandbox: Sandbox) -> Path:
    target = sandbox.root / "elsewhere"
    target.mkdir()
    target.chmod(0o755)
    return target


@pytest.mark.parametrize("link", [".deepctl/lab", ".deepctl", ".deepctl/lab/inventory"])
def test_a_symlink_on_the_state_path_is_refused_and_its_target_left_alone(
        cli: Invoke, sandbox: Sandbox, link: str) -> None:
    spec = sandbox.spec()
    if link.endswith("inventory"):
        assert cli("validate", str(spec), "--no-kubespray").exit_code == 0
        (sandbox.work / ".deepctl" / "lab" / "inventory").rename(sandbox.root / "old-inventory")
    target = elsewhere(sandbox)
    path = sandbox.work / link
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    result = cli("validate", str(spec), "--no-kubespray")
    assert result.exit_code == 1, result.output
    assert f"error: unsafe state directory: {path} is a symbolic link" in result.stderr
    assert f"rm {path}" in result.stderr
    assert mode(target) == 0o755 and list(target.iterdir()) == []


def test_a_group_writable_state_directory_is_refused_and_not_chmodded(
        cli: Invoke, sandbox: Sandbox) -> None:
    state = sandbox.work / ".deepctl" / "lab"
    state.mkdir(parents=True)
    state.chmod(0o775)
    result = cli("validate", str(sandbox.spec()), "--no-kubespray")
    assert result.exit_code == 1
    assert f"{state} has mode 0775: group may write to it" in result.stderr
    assert f"chmod go-w {state}" in result.stderr
    assert mode(state) == 0o775 and list(state.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_state_directory_owned_by_another_user_is_refused(cli: Invoke, sandbox: Sandbox) -> None:
    state = sandbox.root / "theirs"
    state.mkdir(mode=0o755)
    os.chown(state, 65534, 65534)
    result = cli("validate", str(sandbox.spec()), "--no-kubespray", "--state-dir", str(state))
    assert result.exit_code == 1
    assert f"{state} belongs to " in result.stderr and "--state-dir" in result.stderr
    assert list(state.iterdir()) == []


def test_dir_problem_is_pure() -> None:
    ok = DirFacts("directory", 1000, 0o700)
    assert dir_problem(Path("/s"), ok, 1000) is None
    assert dir_problem(Path("/s"), DirFacts("missing"), 1000) is None
    assert dir_problem(Path("/s"), DirFacts("directory", 1000, 0o757), 1000) is not None
    assert dir_problem(Path("/s"), DirFacts("directory", 0, 0o700), 1000) is not None
    assert dir_problem(Path("/s"), DirFacts("symlink", 1000, 0o777), 1000) is not None
    assert StateDir(Path("/w/.deepctl/lab")).guarded_dirs()[:3] == [
        Path("/w/.deepctl"), Path("/w/.deepctl/lab"), Path("/w/.deepctl/lab/inventory")]
    assert StateDir(Path("/srv/state")).guarded_dirs()[0] == Path("/srv/state")
