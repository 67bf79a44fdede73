"""Where the executor is and how deepctl logs in to it (pure).

``spec.executor`` takes the SSH fields of a host (user, port, identityFile, defaulting to
``spec.ssh``) plus an optional jump host of its own. ``--executor ADDRESS`` replaces the
address (or sets an executor with spec.ssh's login when the spec has none).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from pathlib import Path

from deepctl.clusterspec.models import Cluster, ExecutorConfig
from deepctl.clusterspec.rules import check_executor
from deepctl.errors import UsageError
from deepctl.shellwords import deepctl_command
from deepctl.workspace import Workspace

# ssh options every connection to the executor gets: the cluster's own known_hosts, keys
# checked, no prompt, only the spec's key, and a dead link noticed within a minute.
SSH_OPTIONS = ("StrictHostKeyChecking=yes", "BatchMode=yes", "IdentitiesOnly=yes",
               "ServerAliveInterval=15", "ServerAliveCountMax=4", "ConnectTimeout=30")


@dataclass(frozen=True)
class Login:
    address: str
    port: int
    user: str
    identity_file: Path


@dataclass(frozen=True)
class ExecutorTarget:
    """The executor's login (and its jump host's), with relative keys resolved."""

    login: Login
    bastion: Login | None
    known_hosts: Path
    # the command that checks this executor, as hints print it (with the real spec path)
    check_command: str = "deepctl executor check"

    @property
    def label(self) -> str:
        return f"executor {self.login.user}@{self.login.address}:{self.login.port}"


def _key(path: Path, base_dir: Path | None) -> Path:
    path = path.expanduser()
    return base_dir / path if base_dir is not None and not path.is_absolute() else path


def executor_configs(cluster: Cluster) -> list[ExecutorConfig]:
    """The spec's executors, the primary first: ``[spec.executor]`` or ``spec.executors``
    (the rules refuse both together); empty when Ansible runs here."""
    spec = cluster.spec
    return [spec.executor] if spec.executor is not None else list(spec.executors or [])


def executor_targets(cluster: Cluster, known_hosts: Path, base_dir: Path | None = None,
                     spec_path: Path | None = None) -> list[ExecutorTarget]:
    """Every executor of the spec, the primary (control plane and etcd work) first."""
    return [_target(cluster, executor, known_hosts, base_dir, spec_path)
            for executor in executor_configs(cluster)]


def executor_target(cluster: Cluster, known_hosts: Path, base_dir: Path | None = None,
                    spec_path: Path | None = None) -> ExecutorTarget | None:
    """The spec's (primary) executor, or None when Ansible runs here."""
    configs = executor_configs(cluster)
    return _target(cluster, configs[0], known_hosts, base_dir, spec_path) if configs else None


def _target(cluster: Cluster, executor: ExecutorConfig, known_hosts: Path,
            base_dir: Path | None, spec_path: Path | None) -> ExecutorTarget:
    ssh = cluster.spec.ssh
    login = Login(executor.address, executor.port or ssh.port, executor.user or ssh.user,
                  _key(executor.identity_file or ssh.identity_file, base_dir))
    hop = executor.bastion
    bastion = None if hop is None else Login(
        hop.address, hop.port, hop.user or login.user,
        _key(hop.identity_file or executor.identity_file or ssh.identity_file, base_dir))
    check = deepctl_command("executor", "check", *([spec_path] if spec_path else []))
    return ExecutorTarget(login, bastion, known_hosts, check)


def with_executor(ws: Workspace, address: str | None) -> Workspace:
    """``ws`` with ``--executor ADDRESS`` applied (unchanged when ``address`` is None): that
    one executor runs everything (with spec.executors, the first one's login; no slices)."""
    if address is None:
        return ws
    spec = ws.cluster.spec
    configs = executor_configs(ws.cluster)
    executor = (ExecutorConfig(address=address) if not configs
                else configs[0].model_copy(update={"address": address}))
    cluster = ws.cluster.model_copy(
        update={"spec": spec.model_copy(update={"executor": executor, "executors": None})})
    problems = [f.message for f in check_executor(cluster) if f.severity == "error"]
    if problems:
        raise UsageError(f"--executor: {problems[0]}",
                         hint="give the executor's IP address or DNS name")
    return replace(ws, spec=replace(ws.spec, cluster=cluster))


def keep_executor(ws: Workspace, before: Workspace) -> Workspace:
    """``ws`` (the spec read again during a command) with the executor of ``before``:
    ``--executor`` is in no file."""
    executor = before.cluster.spec.executor
    return ws if executor is None else with_executor(ws, executor.address)


def ssh_argv(target: ExecutorTarget, command: str) -> list[str]:
    """``ssh`` running ``command`` on the executor (host keys from the cluster's known_hosts)."""
    options = [*SSH_OPTIONS, f"UserKnownHostsFile={target.known_hosts}"]
    if target.bastion is not None:
        hop = target.bastion
        inner = ["ssh", "-W", "%h:%p", "-p", str(hop.port), "-i", str(hop.identity_file),
                 *(arg for option in options for arg in ("-o", option)),
                 f"{hop.user}@{hop.address}"]
        options.append("ProxyCommand=" + shlex.join(inner))
    login = target.login
    return ["ssh", "-p", str(login.port), "-i", str(login.identity_file),
            *(arg for option in options for arg in ("-o", option)),
            f"{login.user}@{login.address}", "--", command]
