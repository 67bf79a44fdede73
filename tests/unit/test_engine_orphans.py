"""Which processes count as Ansible left behind by a dead deepctl on a state directory."""

from __future__ import annotations

from pathlib import Path

from deepctl.engine.orphans import find_leftovers, is_leftover

STATE = "/srv/lab/.deepctl/lab"


def test_ansible_playbook_on_this_state_dir_is_a_leftover() -> None:
    argv = ["/venv/bin/python3", "/venv/bin/ansible-playbook", "-i",
            f"{STATE}/inventory/hosts.yaml", "-e", f"@{STATE}/runs/r1/env/extravars", "cluster.yml"]
    assert is_leftover(argv, STATE)


def test_other_clusters_and_other_programs_are_not() -> None:
    other = ["/venv/bin/ansible-playbook", "-i", "/srv/other/.deepctl/x/inventory/hosts.yaml"]
    editor = ["vim", f"{STATE}/inventory/hosts.yaml"]
    assert not is_leftover(other, STATE)
    assert not is_leftover(editor, STATE)
    assert not is_leftover([], STATE)


def test_find_leftovers_reads_proc(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    for pid, argv in {"101": ["ansible-playbook", "-i", f"{STATE}/inventory/hosts.yaml"],
                      "102": ["sleep", "60"], "103": ["ansible-playbook", "-i", "/elsewhere"]}.items():
        (proc / pid).mkdir(parents=True)
        (proc / pid / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    assert find_leftovers(Path(STATE), proc) == [101]
