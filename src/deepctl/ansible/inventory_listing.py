"""``ansible-inventory --list``: an inventory as Ansible itself reads it (``deepctl import``).

Part of the one Ansible boundary: the command line and environment are built here, Ansible's
HOME and temp stay in a private temporary directory, and nothing of the caller's ``ANSIBLE_*``
environment leaks in.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from deepctl.ansible.runner import ansible_binary

LIST_TIMEOUT_S = 120
# Ansible's default inventory plugins less ``auto``, which reads every .yml source whole to
# look for a ``plugin:`` key before the ``yaml`` plugin reads it again: a quarter of the CPU of
# listing a 5,000-host hosts.yaml. Only for sources that are no plugin configuration.
FILE_PLUGINS = "host_list,script,yaml,ini,toml"


def list_inventory_argv(binary: str, sources: Sequence[Path]) -> list[str]:
    """The command line (pure): every source as its own ``-i``, then ``--list``."""
    return [binary, *[arg for source in sources for arg in ("-i", str(source))], "--list"]


def ansible_inventory_list(sources: Sequence[Path], extra: dict[str, str] | None = None, *,
                           plugin_configs: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ansible-inventory --list`` on ``sources``; ``extra`` files are written into the
    private directory first (name -> text) and listed after the sources. Without
    ``plugin_configs`` (no source is an inventory plugin's configuration), ``auto`` is off."""
    with tempfile.TemporaryDirectory(prefix="deepctl-inventory-") as home:
        written = []
        for name, text in (extra or {}).items():
            path = Path(home) / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update(ANSIBLE_HOME=home, ANSIBLE_LOCAL_TEMP=home, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
                   ANSIBLE_FORCE_VALID_GROUP_NAMES="ignore")
        if not plugin_configs:
            env["ANSIBLE_INVENTORY_ENABLED"] = FILE_PLUGINS
        argv = list_inventory_argv(ansible_binary("ansible-inventory"), [*sources, *written])
        return subprocess.run(argv, capture_output=True, text=True, env=env,
                              timeout=LIST_TIMEOUT_S, check=False)
