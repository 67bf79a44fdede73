"""``deepctl-ansible-playbook``: ansible-playbook with stdin from /dev/null, whatever stdin was
(ansible-runner gives it a pseudo-terminal), and the arguments passed through unchanged."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from deepctl.ansible.environment import runner_kwargs
from deepctl.ansible.runner import PLAYBOOK_EXEC, ansible_playbook_binary, playbook_exec_binary

# the module's main() with os.execv recorded instead of run: what it would exec, and its stdin
PROBE = """
import os, sys
import deepctl.ansible.playbook_exec as m
def execv(binary, argv):
    print(os.isatty(0), os.readlink('/proc/self/fd/0'), binary, argv[1:])
    sys.exit(0)
os.execv = execv
sys.argv = ['deepctl-ansible-playbook', '--become', '-i', 'inv', 'cluster.yml']
m.main()
"""


def test_stdin_becomes_dev_null_and_the_arguments_pass_through() -> None:
    primary, secondary = pty.openpty()
    try:
        assert os.isatty(secondary)
        out = subprocess.run([sys.executable, "-c", PROBE], stdin=secondary, capture_output=True,
                             text=True, check=True, timeout=60).stdout
    finally:
        os.close(primary)
        os.close(secondary)
    assert out.strip() == (f"False /dev/null {ansible_playbook_binary()} "
                           "['--become', '-i', 'inv', 'cluster.yml']")


def test_ansible_runner_starts_it_when_installed(tmp_path: Path) -> None:
    binary = playbook_exec_binary()
    assert binary == str(Path(sys.executable).parent / PLAYBOOK_EXEC)  # installed with deepctl
    kwargs = runner_kwargs(private_data_dir=tmp_path, playbook=tmp_path / "p.yml",
                           inventory=tmp_path / "hosts.yaml", envvars={}, extravars={},
                           ident="p", binary=binary)
    assert kwargs["binary"] == binary
    # ansible-runner appends the playbook only for its own ansible-playbook: it goes in cmdline
    assert kwargs["cmdline"] == str(tmp_path / "p.yml")
    become = runner_kwargs(private_data_dir=tmp_path, playbook=tmp_path / "my play.yml",
                           inventory=tmp_path / "hosts.yaml", envvars={}, extravars={},
                           ident="p", cmdline="--become", binary=binary)
    assert become["cmdline"] == f"--become '{tmp_path / 'my play.yml'}'"
    assert "binary" not in runner_kwargs(private_data_dir=tmp_path, playbook=tmp_path / "p.yml",
                                         inventory=tmp_path / "hosts.yaml", envvars={},
                                         extravars={}, ident="p")
