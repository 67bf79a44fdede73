"""Is the executor ready? (``deepctl executor check``, and ``preflight``/``deploy`` first.)

One SSH login (host key checked against the cluster's known_hosts, recorded on first use with
``--accept-new-hosts``) runs :data:`FACTS_SCRIPT`: where ``ansible-runner`` and
``ansible-playbook`` are, the versions of Kubespray's Python requirements in ansible-runner's
own Python, and the free space in the executor user's home. :func:`judge` turns that into
checks, each with a fix (pure). Then, only when all of that is fine, a one-task playbook
(``executor-reach.yml``: ``raw: true``, no change) runs through the executor exactly as a
deploy would, which proves that it reaches every host with the job's key and known_hosts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from deepctl.ansible.remote import RemoteJob
from deepctl.ansible.runner import PlaybookRun, run_playbook
from deepctl.ansible.settings import settings_for
from deepctl.errors import DeepctlError, PreflightFailed
from deepctl.executor.job import JobBuilder
from deepctl.executor.target import ExecutorTarget, Login, executor_targets
from deepctl.fsutil import ensure_private_dir
from deepctl.kubespray import source as kubespray_source
from deepctl.shellwords import deepctl_command, record_host_keys_command
from deepctl.ssh import exec as ssh_exec
from deepctl.ssh import known_hosts
from deepctl.ssh.cluster import tunnel
from deepctl.ssh.connect import (
    ClusterSSHClient,
    ConnectOptions,
    Endpoint,
    connect_endpoint,
    host_endpoint,
)
from deepctl.templates import playbook_path
from deepctl.workspace import Workspace

Status = Literal["ok", "warning", "error"]
REACH_PLAYBOOK = "executor-reach.yml"
MIN_FREE_KB = 2 * 1024 * 1024  # the Kubespray tree, a job's facts and artifacts, with room
ANSIBLE_CORE = "2.18."  # what ansible==11.13.0 brings, and what Kubespray v2.31.0 supports
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s#;]+)")
FACTS_SCRIPT = r"""
runner=$(command -v ansible-runner 2>/dev/null)
echo "runner=$runner"
echo "playbook=$(command -v ansible-playbook 2>/dev/null)"
echo "free_kb=$(df -Pk "$HOME" 2>/dev/null | awk 'NR==2 {print $4}')"
[ -n "$runner" ] || exit 0
py=$(sed -n '1s/^#! *//p' "$runner")
case "$py" in */python*) ;; *) py=python3 ;; esac
"$py" - "$@" <<'PY'
import importlib.metadata as m, json, sys
versions = {}
for name in sys.argv[1:]:
    try:
        versions[name] = m.version(name)
    except m.PackageNotFoundError:
        versions[name] = None
print("python=" + sys.executable)
print("packages=" + json.dumps(versions))
PY
"""


class ExecutorNotReady(PreflightFailed):
    """spec.executor cannot run Ansible yet (preflight's exit code)."""


@dataclass(frozen=True)
class Check:
    name: str  # executor.ssh, executor.runner, executor.ansible, ...
    status: Status
    message: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status, "message": self.message,
                "hint": self.hint}


def requirements(tree: Path) -> dict[str, str]:
    """Kubespray's pinned Python requirements (``requirements.txt``), ansible-core added."""
    try:
        text = (tree / "requirements.txt").read_text(encoding="utf-8")
    except OSError:
        text = ""
    return parse_requirements(text)


def parse_requirements(text: str) -> dict[str, str]:
    """Pure: ``name==version`` lines of a requirements file."""
    found = {}
    for line in text.splitlines():
        match = REQUIREMENT.match(line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def parse_facts(text: str) -> dict[str, Any]:
    """Pure: the ``key=value`` lines of :data:`FACTS_SCRIPT`."""
    facts: dict[str, Any] = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        facts[key.strip()] = json.loads(value) if key == "packages" else value.strip()
    return facts


def judge(facts: dict[str, Any], pins: dict[str, str], label: str) -> list[Check]:
    """Pure: checks from what :data:`FACTS_SCRIPT` found, each failing one with its fix."""
    install = ("on the executor: python3 -m venv ~/deepctl-executor && "
               "~/deepctl-executor/bin/pip install ansible-runner "
               + " ".join(f"{n}=={v}" for n, v in sorted(pins.items()))
               + " && put ~/deepctl-executor/bin on PATH for SSH sessions (docs/executor.md)")
    checks = []
    if not facts.get("runner"):
        checks.append(Check("executor.runner", "error",
                            f"{label}: ansible-runner is not on PATH", install))
    else:
        checks.append(Check("executor.runner", "ok", f"ansible-runner {facts['runner']}"))
    if not facts.get("playbook"):
        checks.append(Check("executor.ansible", "error",
                            f"{label}: ansible-playbook is not on PATH", install))
    packages: dict[str, str | None] = facts.get("packages") or {}
    if facts.get("runner"):
        checks += _versions(packages, pins, label, install)
    free = str(facts.get("free_kb") or "")
    if free.isdigit() and int(free) < MIN_FREE_KB:
        checks.append(Check("executor.disk", "error",
                            f"{label}: {int(free) // 1024} MiB free in the home directory, "
                            f"{MIN_FREE_KB // 1024} MiB needed",
                            "free space in the executor user's home (~/.cache/deepctl/jobs)"))
    elif free.isdigit():
        checks.append(Check("executor.disk", "ok", f"{int(free) // 1024} MiB free"))
    return checks


def _versions(packages: dict[str, str | None], pins: dict[str, str], label: str,
              install: str) -> list[Check]:
    checks = []
    for name, wanted in sorted(pins.items()):
        have = packages.get(name)
        if have == wanted:
            checks.append(Check(f"executor.requirements.{name}", "ok", f"{name} {have}"))
        else:
            where = "is not installed" if have is None else f"is {have}"
            checks.append(Check(
                f"executor.requirements.{name}", "error",
                f"{label}: {name} {where} beside ansible-runner; Kubespray needs {name}=={wanted}",
                install))
    core = packages.get("ansible-core")
    if core is not None and not core.startswith(ANSIBLE_CORE):
        checks.append(Check("executor.ansible-core", "error",
                            f"{label}: ansible-core {core}; Kubespray needs {ANSIBLE_CORE}x",
                            install))
    return checks


def _endpoint(login: Login, label: str) -> Endpoint:
    return Endpoint(label, login.address, login.port, login.user, login.identity_file)


def login(target: ExecutorTarget, options: ConnectOptions) -> ClusterSSHClient:
    """A verified paramiko connection to the executor (through its jump host if any)."""
    if target.bastion is None:
        return connect_endpoint(_endpoint(target.login, "executor"), options)
    hop = connect_endpoint(_endpoint(target.bastion, "executor bastion"), options)
    executor = _endpoint(target.login, "executor")
    try:
        client = connect_endpoint(executor, options,
                                  sock=tunnel(hop, executor, options.timeout))
    except BaseException:
        hop.close()
        raise
    client.owned_bastion = hop
    return client


def inspect(target: ExecutorTarget, pins: dict[str, str], accept_new_hosts: bool,
            timeout: float = 30.0) -> list[Check]:
    """Log in to the executor and judge what it has."""
    options = ConnectOptions(target.known_hosts, accept_new_hosts=accept_new_hosts,
                             timeout=timeout)
    try:
        client = login(target, options)
    except DeepctlError as exc:  # its message names the executor already
        return [Check("executor.ssh", "error", str(exc), exc.hint)]
    try:
        names = " ".join([*sorted(pins), "ansible-core", "ansible-runner"])
        _, out, _ = ssh_exec.run_command(client, f"sh -s -- {names}", timeout,
                                         stdin=FACTS_SCRIPT)
    except DeepctlError as exc:
        return [Check("executor.ssh", "error", f"{target.label}: {exc}", exc.hint)]
    finally:
        client.close()
    recorded = " (host key recorded)" if options.new_keys else ""
    return [Check("executor.ssh", "ok", f"logged in to {target.label}{recorded}"),
            *judge(parse_facts(out), pins, target.label)]


def reach_hosts(builder: Callable[[PlaybookRun, dict[str, str]], RemoteJob], playbook: Path,
                inventory: Path, work: Path, label: str, known_hosts: Path) -> list[Check]:
    """Run ``executor-reach.yml`` through the executor; one check per host it cannot reach."""
    reasons: dict[str, str] = {}

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") in ("runner_on_unreachable", "runner_on_failed"):
            data = event.get("event_data") or {}
            res = data.get("res") or {}
            reasons[str(data.get("host"))] = str(res.get("msg") or res.get("stderr") or "")

    run = PlaybookRun(private_data_dir=work, playbook=playbook, inventory=inventory,
                      ident="executor-reach", remote=builder)
    try:
        run_playbook(run, on_event)
    except DeepctlError as exc:
        return [Check("executor.reach", "error", str(exc), exc.hint)]
    if not reasons:
        return [Check("executor.reach", "ok", f"{label} reaches every host over SSH")]
    return [Check(f"executor.reach.{host}", "error",
                  f"{label} cannot reach {host} over SSH: {_last_line(why)}",
                  f"from the executor, check routing and firewall to {host}'s SSH port, and "
                  f"that its host key in {known_hosts} is current")
            for host, why in sorted(reasons.items())]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"


def check_executor(ws: Workspace, *, accept_new_hosts: bool = False) -> list[Check]:
    """Every check of spec.executor, or of each of spec.executors (named
    ``executors[I].CHECK`` then); none when there is no executor."""
    targets = executor_targets(ws.cluster, ws.state.known_hosts, ws.spec.directory,
                               ws.spec.path)
    if not targets:
        return []
    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    if tree is None:
        raise kubespray_source.not_found_error(ws.cluster.spec.kubespray.version)
    if len(targets) == 1:
        return _check_one(ws, targets[0], tree.path, accept_new_hosts)
    return [replace(c, name=c.name.replace("executor.", f"executors[{i}].", 1))
            for i, target in enumerate(targets)
            for c in _check_one(ws, target, tree.path, accept_new_hosts, f"executor-check-{i}")]


def _check_one(ws: Workspace, target: ExecutorTarget, tree: Path, accept_new_hosts: bool,
               work_dir: str = "executor-check") -> list[Check]:
    checks = inspect(target, requirements(tree), accept_new_hosts)
    if any(check.status == "error" for check in checks):
        return checks
    unknown = hosts_without_keys(ws)
    if unknown:  # preflight records them (--accept-new-hosts); ssh there would refuse them
        return [*checks, Check("executor.reach", "warning",
                               f"not tried: no host key known for {', '.join(unknown)}",
                               f"run `{record_host_keys_command(ws.spec.path)}`")]
    ws.render_inventory()
    work = ensure_private_dir(ws.state.root / work_dir)
    builder = JobBuilder(target, ws.cluster, ws.state, tree,
                         settings_for(ws.cluster, ws.state), ws.spec.directory)
    return checks + reach_hosts(builder, playbook_path(REACH_PLAYBOOK), ws.state.inventory_dir,
                                work, target.label, ws.state.known_hosts)


def hosts_without_keys(ws: Workspace) -> list[str]:
    """Hosts whose SSH host key is not in the cluster's known_hosts yet."""
    keys = known_hosts.load(ws.state.known_hosts)
    base = ws.spec.directory
    return [h.name for h in ws.cluster.spec.hosts
            if host_endpoint(ws.cluster, h, base).key_name not in keys]


def require_ready(ws: Workspace, spec_path: Path, *, accept_new_hosts: bool = False) -> None:
    """Raise (before any host is touched) when spec.executor is set and not ready."""
    bad = [c for c in check_executor(ws, accept_new_hosts=accept_new_hosts)
           if c.status == "error"]
    if bad:
        raise ExecutorNotReady(
            "; ".join(c.message for c in bad),
            hint="; ".join(dict.fromkeys(c.hint for c in bad if c.hint))
            + f"; then rerun `{deepctl_command('executor', 'check', spec_path)}`")
