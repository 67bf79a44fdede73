"""SSH for deepctl: paramiko connections verified against the cluster's ``known_hosts``.

Imports paramiko; import this package lazily (never from ``deepctl.cli.application``).
"""

from __future__ import annotations

from deepctl.errors import CommandTimeout, SSHError
from deepctl.ssh.cluster import open_bastion, open_client, sudo_works
from deepctl.ssh.connect import Endpoint, NewHostKey, bastion_endpoint, host_endpoint
from deepctl.ssh.exec import run_command
from deepctl.ssh.known_hosts import fingerprint, host_key_name

__all__ = [
    "CommandTimeout",
    "Endpoint",
    "NewHostKey",
    "SSHError",
    "bastion_endpoint",
    "fingerprint",
    "host_endpoint",
    "host_key_name",
    "open_bastion",
    "open_client",
    "run_command",
    "sudo_works",
]
