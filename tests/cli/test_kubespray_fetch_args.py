"""`deepctl kubespray fetch`: the tag must be a tag (no path outside the cache) and --repo
reaches git only after `--`. git is a recording stand-in in a directory named so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepctl.kubespray.git import clone_argv, tag_problem
from tests.cli.conftest import Run, Sandbox

STANDIN_GIT = """#!/bin/sh
# git stand-in (tests only): record argv, fail like a clone that found nothing
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> "$GIT_STANDIN_LOG"
exit 128
"""


@pytest.fixture
def git_standin(sandbox: Sandbox) -> tuple[dict[str, str], Path]:
    bindir = sandbox.root / "git-standin-bin"
    bindir.mkdir()
    (bindir / "git").write_text(STANDIN_GIT)
    (bindir / "git").chmod(0o755)
    log = sandbox.root / "git-calls.jsonl"
    env = sandbox.env(PATH=f"{bindir}:/usr/bin:/bin", GIT_STANDIN_LOG=str(log))
    return env, log


@pytest.mark.parametrize("tag", ["../../../x", "v2.31.0/../../x", "-x", "a b", "v1..2", "x.lock"])
def test_a_tag_that_is_not_a_tag_is_a_usage_error_and_creates_nothing(
        run_deepctl: Run, sandbox: Sandbox, git_standin: tuple[dict[str, str], Path],
        tag: str) -> None:
    env, log = git_standin
    before = sorted(p for p in sandbox.root.rglob("*"))
    result = run_deepctl("kubespray", "fetch", f"--tag={tag}", env=env)
    assert result.returncode == 2, result.stderr
    assert "is not a Kubespray tag" in result.stderr
    assert not log.exists()  # git never ran
    assert sorted(p for p in sandbox.root.rglob("*")) == before


def test_repo_reaches_git_after_the_double_dash(
        run_deepctl: Run, sandbox: Sandbox, git_standin: tuple[dict[str, str], Path]) -> None:
    env, log = git_standin
    result = run_deepctl("kubespray", "fetch", "--repo=--upload-pack=touch /tmp/x", env=env)
    assert result.returncode == 1
    (argv,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert argv[:5] == ["clone", "--quiet", "--depth", "1", "--branch=v2.31.0"]
    assert argv[5:7] == ["--", "--upload-pack=touch /tmp/x"]


def test_tag_rules_and_clone_argv_are_pure() -> None:
    assert tag_problem("v2.31.0") is None and tag_problem("release-2.31") is None
    assert tag_problem("../x") is not None and tag_problem("") is not None
    assert clone_argv("git", "v2.31.0", "-u", "/c/p") == [
        "git", "clone", "--quiet", "--depth", "1", "--branch=v2.31.0", "--", "-u", "/c/p"]
