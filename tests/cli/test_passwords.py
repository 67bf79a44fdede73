"""Passwords never reach a rendered inventory, a log or a world-readable file (issue 22 §2):
a password in the spec is refused before anything is written, without echoing it; a lookup
of a private file is accepted, and what deepctl writes holds the lookup, never the password,
in private files only."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.cli.conftest import Invoke, Sandbox
from tests.specs import MINIMAL_SPEC

SECRET = "Hunter2-not-for-logs"


def written_files(root: Path, but: set[Path]) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p not in but]


def test_a_password_in_the_spec_is_refused_and_never_echoed_or_written(
    cli: Invoke, sandbox: Sandbox
) -> None:
    for name in ("ansible_become_password", "ansible_password", "cinder_password"):
        spec = sandbox.spec(MINIMAL_SPEC + f"  kubesprayVars:\n    {name}: {SECRET}\n",
                            name=f"{name}.yaml")
        result = cli("validate", str(spec), "--no-kubespray")
        assert result.exit_code == 2
        assert f"{name}.yaml:13:5: spec.kubesprayVars.{name}: '{name}'" in result.stderr
        assert SECRET not in result.stdout + result.stderr
    specs = {sandbox.work / f"{n}.yaml" for n in ("ansible_become_password", "ansible_password",
                                                 "cinder_password")}
    assert [p for p in written_files(sandbox.root, specs) if SECRET in p.read_text()] == []


def test_a_lookup_of_a_private_file_reaches_the_inventory_not_the_password(
    cli: Invoke, sandbox: Sandbox
) -> None:
    secret_file = sandbox.work / "cinder.pw"
    secret_file.write_text(SECRET)
    secret_file.chmod(0o600)
    spec = sandbox.spec(MINIMAL_SPEC + "  kubesprayVars:\n"
                        f"    cinder_password: \"{{{{ lookup('file', '{secret_file}') }}}}\"\n")
    result = cli("validate", str(spec), "--no-kubespray")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.stdout + result.stderr
    written = written_files(sandbox.root, {spec, secret_file})
    inventories = [p for p in written if "inventory" in p.parts]
    assert inventories, written  # validate rendered the inventory
    assert any(f"lookup(''file'', ''{secret_file}'')" in p.read_text() for p in inventories)
    assert [p for p in written if SECRET in p.read_text(errors="replace")] == []
    for path in inventories:  # private: no group or other access on any file or folder
        for part in [path, *path.parents]:
            if part == sandbox.root or not part.is_relative_to(sandbox.root):
                break
            if "inventory" in part.parts:
                assert stat.S_IMODE(part.stat().st_mode) & 0o077 == 0, part
