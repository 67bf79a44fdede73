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
from deepctl.clusterspec.addon_rules import helm_addons
from deepctl.clusterspec.kubespray_map import Setting, cluster_settings
from deepctl.clusterspec.models import Cluster, Host
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.kubevars.gpu_runtime import gpu_kubespray_vars
from deepctl.kubevars.offline import OFFLINE_VARS_FILE, render_offline_vars

GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
GPU_OPERANDS_LABEL = "nvidia.com/gpu.deploy.operands"

HOSTS_FILE = "hosts.yaml"
ALL_VARS_FILE = "group_vars/all/deepctl.yml"
# Where deepctl wrote cluster values before they moved to group_vars/all; removed when found.
STALE_CLUSTER_VARS_FILE = "group_vars/k8s_cluster/deepctl.yml"
# Typed fields holding free text: written !unsafe, never templated.
FREE_TEXT_VARIABLES = frozenset(
    {"dns_domain", "loadbalancer_apiserver", "kube_vip_address", "kube_vip_interface",
     "kube_vip_bgppeers", "kube_vip_bgp_routerid", "ntp_servers", "ntp_timezone", "kube_owner",
     "containerd_registries_mirrors", "crio_registries", "kube_feature_gates"}
)
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
    return bool(helm_addons(cluster))


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
    if host.internal_address6 is not None:
        out["ip6"] = str(host.internal_address6)
        out["access_ip6"] = str(host.internal_address6)
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
    out.update(host.kubespray_vars)  # the user's own Ansible, as given
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


def deepctl_settings(cluster: Cluster) -> list[Setting]:
    """Every cluster-wide variable deepctl writes: typed fields, its own, then kubesprayVars."""
    return cluster_settings(cluster, needs_helm=needs_helm(cluster),
                            extra=gpu_kubespray_vars(cluster))


def render_all_vars(cluster: Cluster) -> dict[str, Any]:
    """group_vars/all: every cluster-wide value, so that etcd-only hosts see them too."""
    out: dict[str, Any] = {}
    for setting in deepctl_settings(cluster):
        if setting.kind == "kubesprayVars":
            continue
        free_text = setting.kind == "field" and setting.name in FREE_TEXT_VARIABLES
        out[setting.name] = _unsafe(setting.value) if free_text else setting.value
        if setting.name == "containerd_registry_auth":  # user text literal, the lookup not
            out[setting.name] = [{k: v if k == "password" else Unsafe(v) for k, v in entry.items()}
                                 for entry in setting.value]
    return out


def _unsafe(value: Any) -> Any:
    """User text as literal text: every string inside tagged ``!unsafe``."""
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {k: _unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsafe(v) for v in value]
    return value


def render_inventory(cluster: Cluster, source_name: str,
                     hosts: dict[str, Any] | None = None) -> dict[str, str]:
    """Every inventory file as text, keyed by its path relative to the inventory directory;
    ``hosts``: the hosts.yaml document to write instead of :func:`render_hosts`'s."""
    header = (
        f"# Generated by deepctl {__version__} from {source_name} for cluster "
        f"{cluster.name!r}.\n# Do not edit: change the spec and run deepctl again.\n"
    )
    all_vars = render_all_vars(cluster)
    offline_vars = render_offline_vars(cluster, Unsafe)
    for name in sorted(set(all_vars) & set(offline_vars)):
        # registries for the mirror (plain HTTP, private CA) join the spec's own registry
        # settings (containerd.registryMirrors, crio registries) instead of replacing them
        all_vars[name] = [*all_vars[name], *offline_vars.pop(name)]
    files = {
        HOSTS_FILE: dump_yaml(render_hosts(cluster) if hosts is None else hosts, header),
        ALL_VARS_FILE: dump_yaml(all_vars, header),
    }
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
    for name in (USER_VARS_FILE, STALE_CLUSTER_VARS_FILE, OFFLINE_VARS_FILE):
        stale = inventory_dir / name
        if name not in files and stale.exists():
            stale.unlink()
    return written
