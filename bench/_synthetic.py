"""Shared by the Ansible benchmarks (runner_overhead.py, ansible_tuning.py).

Loopback test hosts from ``tests/harness`` (a real sshd per host), a synthetic playbook of
tiny tasks, its inventory, and a timed ``ansible-playbook`` run from a cold start: the fact
cache emptied and the SSH multiplexing masters closed after every run, so no run profits from
the one before it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import yaml
from _common import ROOT, machine, write_results

sys.path.insert(0, str(ROOT))

from tests.harness import HostFarm, HostProfile, TestHost, missing_requirements

from deepctl.ansible import settings as ansible_settings
from deepctl.clusterspec.loader import load_spec_text
from deepctl.clusterspec.models import Cluster
from deepctl.engine.signals import close_ssh_masters
from deepctl.state import StateDir

KUBESPRAY_TREE = Path.home() / ".cache" / "deepctl" / "kubespray" / "v2.31.0"

# Kubespray v2.31.0's ansible.cfg, for machines without the cached tree (same settings).
STOCK_CFG = """\
[ssh_connection]
pipelining=True
ssh_args = -o ControlMaster=auto -o ControlPersist=30m -o ConnectionAttempts=100 \
-o UserKnownHostsFile=/dev/null
[defaults]
force_valid_group_names = ignore
host_key_checking=False
gathering = smart
fact_caching = jsonfile
fact_caching_connection = /tmp
fact_caching_timeout = 86400
timeout = 300
stdout_callback = default
display_skipped_hosts = no
library = ./library
callbacks_enabled = profile_tasks
roles_path = roles:$VIRTUAL_ENV/usr/local/share/kubespray/roles:\
$VIRTUAL_ENV/usr/local/share/ansible/roles:/usr/share/kubespray/roles
deprecation_warnings=False
inventory_ignore_extensions = ~, .orig, .bak, .ini, .cfg, .retry, .pyc, .pyo, .creds, .gpg
[inventory]
ignore_patterns = artifacts, credentials
"""


def stock_cfg() -> tuple[str, str]:
    """Kubespray's ansible.cfg text and where it came from."""
    path = KUBESPRAY_TREE / "ansible.cfg"
    if path.is_file():
        return path.read_text(encoding="utf-8"), str(path)
    return STOCK_CFG, "embedded copy of Kubespray v2.31.0's ansible.cfg"


ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")

# One tiny task of each kind, cycled: remote modules (command, ping, stat, shell) and a
# controller-only one (set_fact), as Kubespray's roles mix them.
TASK_KINDS: list[dict[str, object]] = [
    {"ansible.builtin.command": "/bin/true", "changed_when": False},
    {"ansible.builtin.ping": {}},
    {"ansible.builtin.stat": {"path": "/etc/hostname"}},
    {"ansible.builtin.shell": "echo {{ inventory_hostname }}", "changed_when": False},
    {"ansible.builtin.set_fact": {"bench_step": "{{ inventory_hostname }}"}},
]


def require_hosts() -> None:
    reason = missing_requirements()
    if reason is not None:
        raise SystemExit(f"cannot run loopback test hosts here: {reason}")


def start_hosts(farm: HostFarm, count: int, prefix: str = "bench") -> list[TestHost]:
    return farm.add_many(HostProfile(name=f"{prefix}{i:02d}") for i in range(count))


def playbook_text(tasks: int, gather_facts: bool = True) -> str:
    """One play on all hosts: ``tasks`` tiny tasks (facts gathered first, as Kubespray does)."""
    body = [{"name": f"step {i + 1}", **TASK_KINDS[i % len(TASK_KINDS)]} for i in range(tasks)]
    play = {"name": "synthetic", "hosts": "all", "gather_facts": gather_facts, "tasks": body}
    return yaml.safe_dump([play], sort_keys=False)


def inventory(farm: HostFarm, hosts: list[TestHost]) -> dict[str, object]:
    """An Ansible YAML inventory for ``hosts`` (root, the farm's client key)."""
    return {"all": {
        "hosts": {h.name: {"ansible_host": h.address, "ansible_port": h.port} for h in hosts},
        "vars": {"ansible_user": "root",
                 "ansible_ssh_private_key_file": str(farm.client_key)},
    }}


def write_workdir(work: Path, farm: HostFarm, hosts: list[TestHost], tasks: int) -> Path:
    """``work/playbook.yml``, ``work/inventory/hosts.yaml``, ``work/known_hosts``."""
    (work / "inventory").mkdir(parents=True, exist_ok=True)
    (work / "playbook.yml").write_text(playbook_text(tasks), encoding="utf-8")
    (work / "inventory" / "hosts.yaml").write_text(
        yaml.safe_dump(inventory(farm, hosts), sort_keys=False), encoding="utf-8")
    (work / "known_hosts").write_text(farm.known_hosts(hosts), encoding="ascii")
    return work


def spec_text(farm: HostFarm, hosts: list[TestHost], strategy: str = "linear",
              **extra: object) -> str:
    """A deepctl spec of these hosts, as a user would write it (``extra``: more spec keys)."""
    entries = [{"name": h.name, "address": h.address, "ssh": {"port": h.port},
                "roles": ["control-plane", "etcd", "worker"] if i == 0 else ["worker"]}
               for i, h in enumerate(hosts)]
    spec = {"apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "bench"},
            "spec": {"ssh": {"user": "root", "identityFile": str(farm.client_key)},
                     "ansible": {"strategy": strategy}, "hosts": entries, **extra}}
    return yaml.safe_dump(spec, sort_keys=False)


def cluster_for(farm: HostFarm, hosts: list[TestHost], work: Path,
                strategy: str = "linear") -> Cluster:
    """The deepctl spec of these hosts, loaded and validated."""
    text = spec_text(farm, hosts, strategy)
    return load_spec_text(text, work / f"cluster-{strategy}.yaml").cluster


def deepctl_cfg(cluster: Cluster, state_root: Path, known_hosts: Path, base_cfg: str,
                base_dir: Path) -> tuple[Path, ansible_settings.AnsibleSettings]:
    """Write the ansible.cfg deepctl generates for ``cluster`` (as a deploy run does).

    ``known_hosts`` is copied to where the state directory keeps it.
    """
    state = StateDir(state_root)
    settings = ansible_settings.settings_for(cluster, state)
    reset_dir(state_root)
    state.known_hosts.write_bytes(known_hosts.read_bytes())
    reset_dir(settings.control_dir)
    path = state_root / "ansible.cfg"
    path.write_text(ansible_settings.render_ansible_cfg(settings, base_cfg, base_dir),
                    encoding="utf-8")
    return path, settings


def reset_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, mode=0o700)


def run_tree(argv: list[str], env: Mapping[str, str] | None, log: Path) -> tuple[float, float, int]:
    """Run ``argv`` (output to ``log``): wall seconds, CPU seconds of it and every descendant
    it waited for (Ansible's workers, ssh clients), exit code.

    On a loaded machine the CPU seconds vary far less than the wall time: they show what a
    way of running costs the controller, whatever else the machine is doing.
    """
    begun = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - begun, usage.ru_utime + usage.ru_stime, proc.returncode


def time_ansible_playbook(cfg: Path, work: Path, forks: int | None = None,
                          env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """Wall and tree-CPU seconds of one ``ansible-playbook`` run of the playbook under ``cfg``."""
    argv = [ANSIBLE_PLAYBOOK, "-i", str(work / "inventory"), str(work / "playbook.yml")]
    if forks:
        argv[1:1] = ["--forks", str(forks)]
    full_env = {**os.environ, "ANSIBLE_CONFIG": str(cfg), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0", **(env or {})}
    log = work / "ansible-playbook.log"
    elapsed, cpu, rc = run_tree(argv, full_env, log)
    if rc != 0:
        raise SystemExit(f"ansible-playbook failed (exit {rc}) under {cfg}; see {log}:\n"
                         + log.read_text(encoding="utf-8")[-3000:])
    return elapsed, cpu


def close_masters(*control_dirs: Path) -> None:
    """End the SSH masters a run left (ControlPersist), so the next run starts cold."""
    for directory in control_dirs:
        close_ssh_masters(directory)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def save(name: str, data: dict[str, object], output: Path | None) -> Path:
    """bench/results/<name>.json, or ``output`` (smoke runs keep the real results intact)."""
    if output is None:
        return write_results(name, data)
    output.write_text(json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2)
                      + "\n", encoding="utf-8")
    return output
