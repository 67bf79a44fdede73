"""``deepctl-ansible-playbook``: ``ansible-playbook`` with its standard input from /dev/null.

ansible-runner starts ``ansible-playbook`` on a pseudo-terminal (pexpect), stdin included.
With a terminal on stdin (Ansible keeps a copy of it for every worker, ``WorkerProcess``), a
run of many small tasks measurably slows down: on 3 loopback hosts, 90 tasks, plain
``ansible-playbook`` with stdin on a terminal took 8% more wall time and 10% more CPU of the
machine than with stdin from /dev/null (output on the terminal either way; see
docs/deploy.md, "Tested with the real Kubespray"). deepctl answers no prompt of a playbook
(ssh runs with ``BatchMode=yes``, no password is typed), so :func:`deepctl.ansible.runner.run_playbook`
has ansible-runner start this command instead; it replaces stdin and then *is*
``ansible-playbook`` (``exec``: same process, so ansible-runner's cancel reaches it).
"""

from __future__ import annotations

import os
import sys

from deepctl.ansible.runner import ansible_playbook_binary


def main() -> None:
    binary = ansible_playbook_binary()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.execv(binary, [binary, *sys.argv[1:]])
