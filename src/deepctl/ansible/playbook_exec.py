"""``deepctl-ansible-playbook``: ``ansible-playbook`` with its standard input from /dev/null.

ansible-runner starts ``ansible-playbook`` on a pseudo-terminal (pexpect), stdin included.
With a terminal on stdin Ansible keeps a copy of it for every worker (``WorkerProcess``); one
series of runs measured plain ``ansible-playbook`` 8% slower so, a second no difference (see
docs/deploy.md, "Tested with the real Kubespray"). Either way nothing should read it: deepctl
answers no prompt of a playbook (ssh runs with ``BatchMode=yes``, no password is typed), so
:func:`deepctl.ansible.runner.run_playbook` has ansible-runner start this command instead; it
replaces stdin and then *is* ``ansible-playbook`` (``exec``: same process, so
ansible-runner's cancel reaches it).
"""

from __future__ import annotations

import os
import sys

from deepctl.ansible.environment import PLAYBOOK_BINARY_VAR
from deepctl.ansible.runner import ansible_playbook_binary


def main() -> None:
    # the run looked it up once and says which (ansible_env); alone: look it up
    binary = os.environ.get(PLAYBOOK_BINARY_VAR) or ansible_playbook_binary()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.execv(binary, [binary, *sys.argv[1:]])
