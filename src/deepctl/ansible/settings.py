"""deepctl's Ansible settings for one run, generated into the run directory as ``ansible.cfg``.

Kubespray ships an ``ansible.cfg`` its playbooks rely on (``roles_path``, ``library``,
inventory ignore patterns); deepctl starts from it, makes its relative paths absolute, and
overrides what it owns: host key checking on against the cluster's ``known_hosts``, SSH
multiplexing with a short control path, pipelining, forks sized to the host count, a JSON
fact cache in the state directory (``scale.yml --limit`` needs facts of every host) and
retries on flaky SSH. Pure: :func:`render_ansible_cfg` returns text, tested by equality.

``spec.ansible.strategy: mitogen`` (experimental with Kubespray, docs/deploy.md) runs
Mitogen's ``mitogen_linear`` strategy from the installed ``mitogen`` package.
"""

from __future__ import annotations

import configparser
import hashlib
import importlib.util
import io
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from deepctl.clusterspec.kubespray_map import LARGE_CLUSTER_HOSTS, LARGE_CLUSTER_REASON, large_cluster
from deepctl.clusterspec.models import Cluster
from deepctl.errors import AnsibleError
from deepctl.state import StateDir

MAX_FORKS = 50
SSH_RETRIES = 3
# Deliberate changes to Kubespray's own values; docs/deploy.md ("What deepctl changes in
# Kubespray's ansible.cfg") gives each its reason, and a test fails on any change it omits.
CONNECT_TIMEOUT_S = 60  # Kubespray: timeout = 300; a dead host is reported in 1 min, not 5
SSH_CONNECTION_ATTEMPTS = 3  # Kubespray: 100 attempts, i.e. a down host stalls the run
CONTROL_PERSIST = "10m"  # Kubespray: 30m; masters are closed when a run ends anyway
# From LARGE_CLUSTER_HOSTS up, Kubespray's advice (docs/operations/large-deployments.md: 200
# nodes, --timeout=600): with 50 forks busy, a loaded host answers late, not never.
LARGE_CLUSTER_TIMEOUT_S = 600
SOCKET_PATH_LIMIT = 100  # sun_path is 104-108 bytes; Ansible adds a 10-char hash, ssh a suffix
PATH_KEYS = {("defaults", "library"), ("defaults", "roles_path")}

MITOGEN_STRATEGY = "mitogen_linear"
MITOGEN_REQUIREMENT = "mitogen>=0.3.54"  # the release benchmarked with ansible-core 2.18
# With Mitogen, interpreter discovery bootstraps Mitogen twice per host (the discovery, then
# the interpreter found): facts of 30 hosts took 39 s instead of 16 s (bench/README.md).
# Hosts with Python elsewhere set ansible_python_interpreter (kubesprayVars), which wins.
MITOGEN_INTERPRETER = "/usr/bin/python3"


@dataclass(frozen=True)
class AnsibleSettings:
    """What deepctl decides about Ansible for one run (inputs of :func:`render_ansible_cfg`)."""

    forks: int
    known_hosts: Path
    fact_cache: Path
    control_dir: Path
    strategy: str
    proxy_jump: str | None = None  # ProxyCommand for a bastion, already quoted
    timeout_s: int = CONNECT_TIMEOUT_S
    strategy_plugins: Path | None = None  # Mitogen's strategy plugins, for mitogen_*
    bastion_log: Path | None = None  # where the bastion hop's ssh writes its errors (-E)


def forks_for(cluster: Cluster) -> int:
    """Forks: the spec's value, else one per host (at most :data:`MAX_FORKS`)."""
    if cluster.spec.ansible.forks:
        return cluster.spec.ansible.forks
    return max(1, min(MAX_FORKS, len(cluster.spec.hosts)))


def timeout_for(cluster: Cluster) -> int:
    """Ansible's connection timeout: the spec's value, else :data:`CONNECT_TIMEOUT_S`
    (:data:`LARGE_CLUSTER_TIMEOUT_S` from :data:`LARGE_CLUSTER_HOSTS` hosts up)."""
    if cluster.spec.ansible.timeout:
        return cluster.spec.ansible.timeout
    return LARGE_CLUSTER_TIMEOUT_S if large_cluster(cluster) else CONNECT_TIMEOUT_S


@dataclass(frozen=True)
class SettingChoice:
    """One Ansible setting deepctl writes to the run's ansible.cfg, and why (``deepctl vars``)."""

    name: str
    value: str
    kind: str  # field, derived
    source: str


def setting_choices(cluster: Cluster) -> list[SettingChoice]:
    """Pure: the ansible.cfg settings that depend on the spec, each with its reason."""
    spec = cluster.spec.ansible
    large = f"; {LARGE_CLUSTER_REASON} (--forks=50)" if large_cluster(cluster) else ""
    forks = (SettingChoice("forks", str(spec.forks), "field", "spec.ansible.forks") if spec.forks
             else SettingChoice("forks", str(forks_for(cluster)), "derived",
                                f"one per host, at most {MAX_FORKS}{large}"))
    if spec.timeout:
        timeout = SettingChoice("timeout", str(spec.timeout), "field", "spec.ansible.timeout")
    elif large_cluster(cluster):
        timeout = SettingChoice("timeout", str(LARGE_CLUSTER_TIMEOUT_S), "derived",
                                f"{LARGE_CLUSTER_REASON} (--timeout=600)")
    else:
        timeout = SettingChoice("timeout", str(CONNECT_TIMEOUT_S), "derived",
                                f"a dead host is reported in 1 min (Kubespray's: 300); "
                                f"{LARGE_CLUSTER_TIMEOUT_S} from {LARGE_CLUSTER_HOSTS} hosts up")
    cache = SettingChoice("fact_caching", "jsonfile", "derived",
                          "facts cached per cluster for a day: Kubespray's scale.yml --limit "
                          "needs every host's, and add-node of a large cluster gathers only "
                          "the missing ones")
    return [forks, timeout, cache]


def control_dir_for(state: StateDir) -> Path:
    """A directory for SSH control sockets: in the state dir when its path is short enough."""
    preferred = state.ssh_dir
    if len(str(preferred)) + 30 <= SOCKET_PATH_LIMIT:
        return preferred
    digest = hashlib.sha256(str(state.root).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"deepctl-{os.getuid()}" / digest


def ssh_option_path(path: Path) -> str:
    """``path`` as one word in an ssh ``-o`` option (ssh splits a value at spaces itself)."""
    text = str(path)
    if not any(c.isspace() or c in "\"'\\" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bastion_proxy(cluster: Cluster, known_hosts: Path, log: Path | None = None) -> str | None:
    """``-o ProxyCommand=...`` reaching hosts through ``spec.ssh.bastion``, or None.

    With SSH multiplexing, ssh sends a ProxyCommand's stderr to /dev/null, so the hop's
    errors ("Host key verification failed.") are written to ``log`` (``ssh -E``) instead.
    """
    bastion = cluster.spec.ssh.bastion
    if bastion is None:
        return None
    ssh = cluster.spec.ssh
    key = bastion.identity_file or ssh.identity_file
    inner = [
        "ssh", "-W", "%h:%p", "-p", str(bastion.port), "-i", str(key.expanduser()),
        "-o", f"UserKnownHostsFile={ssh_option_path(known_hosts)}", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", *(["-E", str(log)] if log else []),
        f"{bastion.user or ssh.user}@{bastion.address}",
    ]
    return "-o ProxyCommand=" + shlex.quote(shlex.join(inner))


def mitogen_strategy_dir() -> Path | None:
    """``ansible_mitogen/plugins/strategy`` of the installed mitogen (not imported), or None."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "plugins" / "strategy"
        if (path / f"{MITOGEN_STRATEGY}.py").is_file():
            return path
    return None


def settings_for(cluster: Cluster, state: StateDir) -> AnsibleSettings:
    mitogen = cluster.spec.ansible.strategy == "mitogen"
    bastion_log = state.bastion_log if cluster.spec.ssh.bastion is not None else None
    known_hosts = state.known_hosts
    return AnsibleSettings(
        forks=forks_for(cluster),
        known_hosts=known_hosts,
        timeout_s=timeout_for(cluster),
        fact_cache=state.fact_cache,
        control_dir=control_dir_for(state),
        strategy=MITOGEN_STRATEGY if mitogen else cluster.spec.ansible.strategy,
        proxy_jump=bastion_proxy(cluster, known_hosts, bastion_log),
        strategy_plugins=mitogen_strategy_dir() if mitogen else None,
        bastion_log=bastion_log,
    )


def strategy_options(settings: AnsibleSettings) -> dict[str, str]:
    """``strategy`` (and Mitogen's ``strategy_plugins``); raises when Mitogen is missing."""
    if not settings.strategy.startswith("mitogen"):
        return {"strategy": settings.strategy}
    if settings.strategy_plugins is None:
        raise AnsibleError(
            "spec.ansible.strategy is mitogen, but Mitogen is not installed next to deepctl",
            hint=f"install it: {sys.executable} -m pip install '{MITOGEN_REQUIREMENT}' "
                 "(or pip install 'deepctl[mitogen]'), or set spec.ansible.strategy: linear")
    return {"strategy": settings.strategy, "strategy_plugins": str(settings.strategy_plugins)}


def ssh_args(settings: AnsibleSettings) -> str:
    args = [
        "-o ControlMaster=auto",
        f"-o ControlPersist={CONTROL_PERSIST}",
        "-o " + shlex.quote(f"UserKnownHostsFile={ssh_option_path(settings.known_hosts)}"),
        "-o StrictHostKeyChecking=yes",
        "-o ServerAliveInterval=30",
        f"-o ConnectionAttempts={SSH_CONNECTION_ATTEMPTS}",
        "-o BatchMode=yes",
        # Only the spec's key (from its file, or its copy in ssh-agent), as preflight does.
        "-o IdentitiesOnly=yes",
    ]
    if settings.proxy_jump:
        args.append(settings.proxy_jump)
    return " ".join(args)


def overrides(settings: AnsibleSettings) -> dict[str, dict[str, str]]:
    """The settings deepctl owns, by section."""
    return {
        "defaults": {
            "forks": str(settings.forks),
            "host_key_checking": "True",
            "gathering": "smart",
            "fact_caching": "jsonfile",
            "fact_caching_connection": str(settings.fact_cache),
            "fact_caching_timeout": "86400",
            "timeout": str(settings.timeout_s),
            **strategy_options(settings),
            "retry_files_enabled": "False",
            "interpreter_python": MITOGEN_INTERPRETER if settings.strategy.startswith("mitogen")
            else "auto_silent",
        },
        "ssh_connection": {
            "pipelining": "True",
            "ssh_args": ssh_args(settings),
            "control_path_dir": str(settings.control_dir),
            "retries": str(SSH_RETRIES),
        },
        "connection": {"pipelining": "True"},
    }


def _absolute(value: str, base: Path) -> str:
    parts = []
    for item in value.split(os.pathsep):
        item = item.strip()
        if item and not item.startswith(("/", "$", "~")):
            item = str(base / item)
        parts.append(item)
    return os.pathsep.join(parts)


def render_ansible_cfg(settings: AnsibleSettings, base_cfg: str = "", base_dir: Path | None = None
                       ) -> str:
    """The ``ansible.cfg`` text: ``base_cfg`` (Kubespray's) with deepctl's settings on top."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(base_cfg)
    for section, key in PATH_KEYS:
        if base_dir is not None and parser.has_option(section, key):
            parser.set(section, key, _absolute(parser.get(section, key), base_dir))
    for section, values in overrides(settings).items():
        if not parser.has_section(section):
            parser.add_section(section)
        for key, value in values.items():
            parser.set(section, key, value)  # Ansible reads ansible.cfg raw: no %% escaping
    out = io.StringIO()
    out.write("# Generated by deepctl for this run; Kubespray's ansible.cfg + deepctl's settings.\n")
    parser.write(out)
    return out.getvalue()


def read_base_cfg(tree: Path) -> str:
    try:
        return (tree / "ansible.cfg").read_text(encoding="utf-8")
    except OSError:
        return ""
