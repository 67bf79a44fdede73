"""Kubespray's own CI scenarios (tests/files/*.yml in the real Kubespray v2.31.0 tree) as the
inventories its CI builds from them (tests/cloud_playbooks/roles/packet-ci): one host per
entry of the scenario's layout, named ``<cloud_image>-<index>`` like CI's, in the groups of
that entry, and the scenario's variables in group_vars/all. Addresses are documentation
addresses (192.0.2.0/24): nothing ever connects to them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from deepctl.importer.listing import K8S_CLUSTER_SOURCE

ROOT = Path(__file__).resolve().parents[2]
KUBESPRAY = ROOT.parent / "shared" / "kubespray-v2.31.0"
SKIP_REASON = (f"no Kubespray v2.31.0 tree at {KUBESPRAY} (the real tree; clone it with "
               "`git clone --branch v2.31.0 https://github.com/kubernetes-sigs/kubespray`)")
# Settings of CI's virtual machines, not Kubespray variables.
INSTANCE_SETTINGS = frozenset({"cloud_image", "mode", "vm_memory", "vm_cpu_cores", "cluster_layout"})
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"


def available() -> bool:
    return (KUBESPRAY / "tests" / "files").is_dir()


def scenario_files() -> list[Path]:
    return sorted((KUBESPRAY / "tests" / "files").glob("*.yml")) if available() else []


def layouts() -> dict[str, list[dict[str, Any]]]:
    path = KUBESPRAY / "tests" / "cloud_playbooks" / "roles" / "packet-ci" / "vars" / "main.yml"
    data: dict[str, list[dict[str, Any]]] = yaml.safe_load(path.read_text())["scenarios"]
    return data


def scenario_variables(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) or {}
    return {k: v for k, v in data.items() if k not in INSTANCE_SETTINGS}


def build_inventory(path: Path, into: Path) -> Path:
    """Write the CI inventory of one scenario into ``into``; return the hosts file."""
    data = yaml.safe_load(path.read_text()) or {}
    layout = data.get("cluster_layout") or layouts()[data.get("mode", "default")]
    image = data.get("cloud_image", "node")
    hosts: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(layout):
        name = f"{image}-{index}"
        hosts[name] = {"ansible_host": f"192.0.2.{10 + index}"}
        for group in entry["node_groups"]:
            groups.setdefault(group, {"hosts": {}})["hosts"][name] = None
    (into / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    hosts_file = into / "hosts.yaml"
    hosts_file.write_text(yaml.safe_dump({"all": {"hosts": hosts, "children": groups}}))
    variables = scenario_variables(path)
    if variables:
        (into / "group_vars" / "all" / "scenario.yml").write_text(yaml.safe_dump(variables))
    return hosts_file


def sample_inventory(into: Path) -> Path:
    """Kubespray's sample inventory as a user fills it in: its commented hosts uncommented."""
    sample = KUBESPRAY / "inventory" / "sample"
    for source in sample.rglob("*"):
        target = into / source.relative_to(sample)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    ini = into / "inventory.ini"
    lines = []
    for line in ini.read_text().splitlines():
        if line.startswith("# node"):
            line = line.removeprefix("# ").replace("  # ", " ")
        lines.append(line)
    ini.write_text("\n".join(lines) + "\n")
    return ini


def ansible_list(source: Path) -> dict[str, Any]:
    """The real ``ansible-inventory --list`` of an inventory (Ansible's files kept beside it)."""
    home = source.parent / ".ansible-home"
    home.mkdir(exist_ok=True)
    k8s_cluster = home / "k8s_cluster.yml"  # built at run time by Kubespray's dynamic_groups
    k8s_cluster.write_text(K8S_CLUSTER_SOURCE)
    result = subprocess.run([str(ANSIBLE_INVENTORY), "-i", str(source), "-i", str(k8s_cluster),
                             "--list"],
                            capture_output=True, text=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "ANSIBLE_HOME": str(home),
                                 "HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home)})
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def plain_hostvars(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every host's effective variables, ``!unsafe`` values as the values they are."""
    hostvars: dict[str, dict[str, Any]] = _plain(listing["_meta"]["hostvars"])
    return hostvars


def _plain(value: Any) -> Any:
    """An ``!unsafe`` value is the same value to Ansible, only never templated."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
