"""Spec -> Kubespray inventory: pure functions returning file contents, and one writer.

Output is deterministic (same spec, same bytes). Every string that comes from the user and
lands in a place Ansible templates is tagged ``!unsafe``, so ``{{ ... }}`` in a label is
written and deployed literally instead of being executed on the machine running deepctl.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deepctl import __version__
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.gpu_runtime import gpu_kubespray_vars
from deepctl.kubespray_offline import OFFLINE_VARS_FILE, render_offline_vars
from deepctl.spec.models import Cluster, Host

GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
GPU_OPERANDS_LABEL = "nvidia.com/gpu.deploy.operands"

HOSTS_FILE = "hosts.yaml"
ALL_VARS_FILE = "group_vars/all/deepctl.yml"
CLUSTER_VARS_FILE = "group_vars/k8s_cluster/deepctl.yml"
USER_VARS_FILE = "group_vars/all/zz-kubespray-vars.yml"


class Unsafe(str):
    """A string Ansible must not template (written as ``!unsafe``)."""


_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """YAML dumper (libyaml's emitter when available) that knows ``Unsafe``."""


def _represent_unsafe(dumper: yaml.SafeDumper, value: Unsafe) -> yaml.Node:
    return dumper.represent_scalar("!unsafe", str(value), style="'")


def _represent_none(dumper: yaml.SafeDumper, _: None) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


_Dumper.add_representer(Unsafe, _represent_unsafe)
_Dumper.add_representer(type(None), _represent_none)


def dump_yaml(data: Any, header: str = "") -> str:
    body = yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=False,
                     allow_unicode=True, width=1000)
    return header + body


def needs_helm(cluster: Cluster) -> bool:
    """True when any enabled addon is installed with helm."""
    addons = cluster.spec.addons
    return any(
        (
            addons.gpu.enabled,
            addons.monitoring.enabled,
            addons.logging.enabled,
            addons.storage.nfs.enabled,
            addons.storage.ceph.enabled,
            addons.slurm.enabled,
            addons.jupyterhub.enabled,
        )
    )


def node_labels(cluster: Cluster, host: Host) -> dict[str, str]:
    labels: dict[str, str] = {}
    if cluster.spec.addons.gpu.enabled:
        if host.gpu:
            labels[GPU_PRESENT_LABEL] = "true"
        else:
            labels[GPU_OPERANDS_LABEL] = "false"
    labels.update(host.labels)
    return labels


def host_vars(cluster: Cluster, host: Host) -> dict[str, Any]:
    internal = str(host.internal_address) if host.internal_address else None
    out: dict[str, Any] = {"ansible_host": Unsafe(host.address)}
    if internal:
        out["ip"] = internal
        out["access_ip"] = internal
    if host.ssh.user:
        out["ansible_user"] = Unsafe(host.ssh.user)
    if host.ssh.port:
        out["ansible_port"] = host.ssh.port
    if host.ssh.identity_file:
        out["ansible_ssh_private_key_file"] = Unsafe(str(host.ssh.identity_file))
    labels = node_labels(cluster, host)
    if labels:
        out["node_labels"] = {Unsafe(k): Unsafe(v) for k, v in labels.items()}
    if host.taints:
        out["node_taints"] = [Unsafe(t) for t in host.taints]
    return out


def _group(names: list[str]) -> dict[str, Any]:
    return {"hosts": {name: None for name in names}}


def render_hosts(cluster: Cluster) -> dict[str, Any]:
    """The Kubespray inventory (hosts.yaml) as data."""
    spec = cluster.spec
    ssh = spec.ssh
    all_vars: dict[str, Any] = {
        "ansible_user": Unsafe(ssh.user),
        "ansible_port": ssh.port,
        "ansible_ssh_private_key_file": Unsafe(str(ssh.identity_file)),
        "ansible_become": ssh.become,
    }
    children: dict[str, Any] = {
        "kube_control_plane": _group([h.name for h in cluster.control_plane]),
        "etcd": _group([h.name for h in cluster.etcd]),
        "kube_node": _group([h.name for h in cluster.workers]),
        "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
    }
    # No Kubespray "bastion" group for spec.ssh.bastion: deepctl's ssh_args carry the
    # ProxyCommand (host keys checked). With the group, Kubespray's boilerplate would write
    # ssh-bastion.conf into the Kubespray tree and its ansible_ssh_common_args would add a
    # ProxyCommand that skips host key checking (docs/deploy.md, "Through a bastion").
    return {
        "all": {
            "hosts": {h.name: host_vars(cluster, h) for h in spec.hosts},
            "vars": all_vars,
            "children": children,
        }
    }


def render_all_vars(cluster: Cluster) -> dict[str, Any]:
    """group_vars/all: settings every host needs."""
    lb = cluster.spec.kubernetes.api_server_load_balancer
    out: dict[str, Any] = {}
    if lb is not None:
        out["loadbalancer_apiserver"] = {"address": Unsafe(lb.address), "port": lb.port}
        out["loadbalancer_apiserver_localhost"] = False
    else:
        out["loadbalancer_apiserver_localhost"] = len(cluster.control_plane) > 1
    return out


def render_cluster_vars(cluster: Cluster) -> dict[str, Any]:
    """group_vars/k8s_cluster: the Kubernetes cluster as the spec describes it."""
    k8s = cluster.spec.kubernetes
    return {
        "kube_version": k8s.version,
        "kube_network_plugin": k8s.network_plugin,
        "kube_pods_subnet": str(k8s.pod_subnet),
        "kube_service_addresses": str(k8s.service_subnet),
        "kube_network_node_prefix": k8s.node_prefix,
        "kube_proxy_mode": k8s.proxy_mode,
        "container_manager": k8s.container_runtime,
        "dns_domain": Unsafe(k8s.dns_domain),
        "kubeconfig_localhost": True,
        "helm_enabled": needs_helm(cluster),
        **gpu_kubespray_vars(cluster),  # nvidia containerd runtime that survives re-runs
    }


def render_inventory(cluster: Cluster, source_name: str) -> dict[str, str]:
    """Every inventory file as text, keyed by its path relative to the inventory directory."""
    header = (
        f"# Generated by deepctl {__version__} from {source_name} for cluster "
        f"{cluster.name!r}.\n# Do not edit: change the spec and run deepctl again.\n"
    )
    files = {
        HOSTS_FILE: dump_yaml(render_hosts(cluster), header),
        ALL_VARS_FILE: dump_yaml(render_all_vars(cluster), header),
        CLUSTER_VARS_FILE: dump_yaml(render_cluster_vars(cluster), header),
    }
    offline_vars = render_offline_vars(cluster, Unsafe)
    if offline_vars:
        offline_header = header + "# spec.offline: Kubespray's offline variables (docs/airgap.md).\n"
        files[OFFLINE_VARS_FILE] = dump_yaml(offline_vars, offline_header)
    if cluster.spec.kubespray_vars:
        user_header = header + "# spec.kubesprayVars, merged last. Values are Ansible templates.\n"
        files[USER_VARS_FILE] = dump_yaml(dict(cluster.spec.kubespray_vars), user_header)
    return files


def write_inventory(inventory_dir: Path, files: dict[str, str]) -> list[Path]:
    """Write rendered files atomically (0600, directories 0700); drop stale ones we own."""
    ensure_private_dir(inventory_dir)
    written = []
    for relative, text in files.items():
        path = inventory_dir / relative
        for directory in reversed(Path(relative).parents[:-1]):  # group_vars, group_vars/all
            ensure_private_dir(inventory_dir / directory)
        atomic_write(path, text, 0o600)
        written.append(path)
    for owned in (USER_VARS_FILE, OFFLINE_VARS_FILE):
        stale = inventory_dir / owned
        if owned not in files and stale.exists():
            stale.unlink()
    return written
