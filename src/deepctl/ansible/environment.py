"""What every Ansible process deepctl starts is given: environment and extra variables (pure).

One place builds them, for the playbook runs (through ansible-runner) and for the
background ``--list-tasks`` alike, and tests compare them by equality.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deepctl.state import StateDir

FILTER_PLUGINS = Path(__file__).resolve().parent / "plugins" / "filter"
# the ansible-playbook the run resolved, for deepctl-ansible-playbook to exec (no second lookup)
PLAYBOOK_BINARY_VAR = "DEEPCTL_ANSIBLE_PLAYBOOK"


def ansible_env(config_path: Path | None, binary: str, path: str | None = None
                ) -> dict[str, str]:
    """Environment for ``ansible-playbook``: our ansible.cfg (when there is one), no colours,
    host keys checked, and ``ansible-playbook``'s own directory first on PATH (deepctl's
    virtualenv)."""
    search = path if path is not None else os.environ.get("PATH", "")
    config = {"ANSIBLE_CONFIG": str(config_path)} if config_path is not None else {}
    return {
        **config,
        "ANSIBLE_FILTER_PLUGINS": str(FILTER_PLUGINS),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "True",  # ansible-runner defaults it to False
        "PATH": os.pathsep.join([str(Path(binary).parent), search]),
        PLAYBOOK_BINARY_VAR: binary,
    }


def local_kubespray_env(tree: Path, work: Path, python: str) -> dict[str, str]:
    """Environment for running Kubespray's roles on this machine only (``validate``'s
    checks, ``artifacts list``'s download evaluation): roles and modules from ``tree``, Ansible's
    scratch space under ``work``, no fact gathering, no colours, ``python`` for local tasks."""
    return {
        "ANSIBLE_ROLES_PATH": str(tree / "roles"),
        "ANSIBLE_LIBRARY": str(tree / "library"),
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_HOME": str(work / "ansible-home"),
        "ANSIBLE_FORCE_VALID_GROUP_NAMES": "ignore",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_PYTHON_INTERPRETER": python,
        "ANSIBLE_NOCOLOR": "1",
    }


def kubespray_dirs(state: StateDir) -> dict[str, str]:
    """Where Kubespray keeps what outlives a run: admin.conf (``artifacts_dir``) and generated
    credentials (``credentials_dir``). Each run reads its own inventory copy, so these two
    would otherwise follow ``inventory_dir`` into the run directory."""
    return {"artifacts_dir": str(state.artifacts_dir),
            "credentials_dir": str(state.credentials_dir)}


def runner_kwargs(*, private_data_dir: Path, playbook: Path, inventory: Path,
                  envvars: Mapping[str, str], extravars: Mapping[str, Any], ident: str,
                  cmdline: str | None = None, limit: str | None = None, forks: int | None = None,
                  settings: Mapping[str, Any] | None = None, fact_cache: Path | None = None,
                  binary: str | None = None) -> dict[str, Any]:
    """The keyword arguments of ``ansible_runner.run`` for one playbook (pure)."""
    kwargs: dict[str, Any] = {
        "private_data_dir": str(private_data_dir),
        "playbook": str(playbook),
        "inventory": str(inventory),
        "envvars": dict(envvars),
        "extravars": dict(extravars),
        "ident": ident,
        "quiet": True,
    }
    if binary is not None:
        # ansible-runner appends the playbook only when it starts ansible-playbook itself; to
        # another binary it passes cmdline first (ansible-playbook takes the playbook anywhere)
        kwargs["binary"] = binary  # deepctl-ansible-playbook: stdin from /dev/null
        cmdline = " ".join(filter(None, [cmdline, shlex.quote(str(playbook))]))
    if cmdline:
        kwargs["cmdline"] = cmdline
    if limit:
        kwargs["limit"] = limit
    if forks:
        kwargs["forks"] = forks
    if settings:
        kwargs["settings"] = dict(settings)
    if fact_cache is not None:
        kwargs["fact_cache"] = str(fact_cache)  # absolute: os.path.join keeps it as is
    return kwargs
