"""Import, the whole inventory: ``ansible-inventory --list`` data -> deepctl spec data (pure).

Literal values of variables that have a typed field go to that field; templates and every
other variable go to ``kubesprayVars`` as they are (a template is the user's own Ansible and
keeps working); a variable whose value differs between hosts goes to those hosts'
``kubesprayVars``. What cannot be carried is collected, never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic.alias_generators import to_camel

from deepctl.clusterspec.kubespray_map import (
    COMPOSITE_VARIABLES,
    FIELD_VARIABLES,
    LARGE_CLUSTER_HOSTS,
    LARGE_CLUSTER_VARS,
    is_template,
)
from deepctl.importer.hosts import (
    HOST_VARIABLES,
    HostImport,
    import_hosts,
    not_an_inventory,
    split_bastion,
)
from deepctl.importer.listing import InventoryListing, UnsafeText
from deepctl.importer.refusals import refused_variables, where_set
from deepctl.kubespray.release import is_kubespray_default
from deepctl.kubevars.gpu_runtime import nvidia_runtime
from deepctl.kubevars.render import ALL_VARS_FILE, GPU_OPERANDS_LABEL, GPU_PRESENT_LABEL

# Variables deepctl sets itself, with its value: listed with both values, never imported.
DEEPCTL_OWNED = {"kubeconfig_localhost": True}
CALICO_DEFAULTS = {"calico_vxlan_mode": "Always", "calico_ipip_mode": "Never"}


@dataclass
class ImportResult:
    """The spec as data, and what the importer did with each variable."""

    spec: dict[str, Any]
    typed: dict[str, str] = field(default_factory=dict)  # variable -> spec field path
    raw: list[str] = field(default_factory=list)  # cluster-wide kubesprayVars
    templates: list[str] = field(default_factory=list)  # kept as Ansible templates
    per_host: dict[str, list[str]] = field(default_factory=dict)  # host -> kubesprayVars
    owned: list[tuple[str, Any, Any]] = field(default_factory=list)  # name, inventory, deepctl
    problems: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # groups left out, and why
    defaults: list[str] = field(default_factory=list)  # deepctl's defaults the spec uses
    default_fields: list[str] = field(default_factory=list)  # spec.ssh keys they are in


def _same(values: list[Any]) -> bool:
    first = json.dumps(values[0], sort_keys=True, default=str)
    return all(json.dumps(v, sort_keys=True, default=str) == first for v in values[1:])


def templated(value: Any) -> bool:
    """An Ansible template: Jinja not tagged ``!unsafe`` (unsafe text is literal)."""
    if isinstance(value, UnsafeText):
        return False
    if isinstance(value, dict):
        return any(templated(k) or templated(v) for k, v in value.items())
    if isinstance(value, list):
        return any(templated(v) for v in value)
    return is_template(value)


def split_variables(listing: InventoryListing, skip: frozenset[str] = frozenset()
                    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(cluster-wide, per host). Cluster-wide: one value on every host, or on every Kubernetes
    node (group_vars/k8s_cluster) - deepctl then gives it to etcd-only hosts too, which is
    where Kubespray's etcd role looks for such values. Anything else stays per host."""
    names = list(dict.fromkeys(n for variables in listing.hostvars.values() for n in variables))
    nodes = set(listing.groups.get("kube_control_plane", [])) | set(listing.groups.get("kube_node", []))
    cluster: dict[str, Any] = {}
    per_host: dict[str, dict[str, Any]] = {host: {} for host in listing.hostvars}
    for name in names:
        if name in HOST_VARIABLES or name in skip:
            continue
        holders = {h: v[name] for h, v in listing.hostvars.items() if name in v}
        everywhere = len(holders) == len(listing.hostvars) or (bool(nodes) and nodes <= set(holders))
        if everywhere and _same(list(holders.values())):
            cluster[name] = next(iter(holders.values()))
        else:
            for host, value in holders.items():
                per_host[host][name] = value
    return cluster, per_host


def _camel_keys(value: Any) -> Any:
    """Kubespray's snake_case keys inside a structured value as spec keys (skip_verify ->
    skipVerify); rendering writes them back in snake_case."""
    if isinstance(value, dict):
        return {to_camel(str(k)): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def _set(spec: dict[str, Any], path: str, value: Any) -> None:
    node = spec
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def convert(listing: InventoryListing, *, name: str, user: str | None = None,
            identity_file: str | None = None) -> ImportResult:
    spec: dict[str, Any] = {}
    result = ImportResult({"apiVersion": "deepctl/v1alpha1", "kind": "Cluster",
                           "metadata": {"name": name}, "spec": spec})
    nothing = not_an_inventory(listing)
    if nothing is not None:
        result.problems.append(nothing)
        return result
    hosts = HostImport()
    listing = split_bastion(listing, hosts)
    refused = refused_variables(listing)
    hosts.problems += refused.values()
    hosts = import_hosts(listing, user=user, identity_file=identity_file, out=hosts)
    result.problems, result.dropped = list(hosts.problems), list(hosts.dropped)
    result.defaults, result.default_fields = list(hosts.defaults), list(hosts.default_fields)
    cluster_vars, host_vars = split_variables(listing, frozenset(refused))
    raw: dict[str, Any] = {}
    composite: dict[str, Any] = {}
    for var, value in cluster_vars.items():
        if var in DEEPCTL_OWNED:
            result.owned.append((var, value, DEEPCTL_OWNED[var]))
        elif templated(value) or (var not in FIELD_VARIABLES and var not in COMPOSITE_VARIABLES):
            raw[var] = value
            (result.templates if templated(value) else result.raw).append(var)
        elif var in FIELD_VARIABLES:
            _set(spec, FIELD_VARIABLES[var], _camel_keys(value))
            result.typed[var] = f"spec.{FIELD_VARIABLES[var]}"
        elif is_kubespray_default(var, value):  # e.g. kube_vip_enabled: false, as is
            raw[var] = value
            result.raw.append(var)
        else:
            composite[var] = value
    _composite(spec, composite, cluster_vars, result)
    for host, variables in host_vars.items():
        _host_raw(host, variables, result)
    if hosts.ssh:
        spec["ssh"] = hosts.ssh
    spec["hosts"] = hosts.hosts
    for entry in spec["hosts"]:
        extra = {n: host_vars[entry["name"]][n] for n in result.per_host.get(entry["name"], [])}
        if extra:
            entry["kubesprayVars"] = extra
    spec["addons"] = {"gpu": {"enabled": _gpu(spec, raw, result)}, "monitoring": {"enabled": False}}
    _drop_large_cluster_defaults(raw, listing, result)
    if raw:
        spec["kubesprayVars"] = raw
    return result


def _drop_large_cluster_defaults(raw: dict[str, Any], listing: InventoryListing,
                                 result: ImportResult) -> None:
    """What deepctl itself wrote from LARGE_CLUSTER_HOSTS hosts up (Kubespray's advice for
    large deployments) into its own group_vars file, read back: the same host count derives
    it again, so it is no kubesprayVars of the user's. Set anywhere else (the user's file),
    it is kept."""
    if len(listing.hostvars) < LARGE_CLUSTER_HOSTS:
        return
    for name, (value, _why) in LARGE_CLUSTER_VARS.items():
        if name not in raw or raw[name] != value:
            continue
        places = [p.rsplit(":", 1)[0] for p in where_set(listing.source, name)]
        if places and all(p == ALL_VARS_FILE for p in places):
            del raw[name]
            if name in result.raw:
                result.raw.remove(name)


def _gpu(spec: dict[str, Any], raw: dict[str, Any], result: ImportResult) -> bool:
    """What deepctl's GPU addon writes, read back: the NVIDIA label on a host -> ``gpu:
    true``; with it, the GPU addon (its label for other hosts, and its containerd runtime,
    are the addon's own)."""
    runtime = raw.get("containerd_additional_runtimes")
    with_runtime = _same([runtime, [nvidia_runtime()]]) if runtime is not None else False
    gpu_hosts = [h for h in spec["hosts"] if h.get("labels", {}).get(GPU_PRESENT_LABEL) == "true"]
    if not gpu_hosts and not with_runtime:
        return False
    for entry in spec["hosts"]:
        labels = entry.get("labels", {})
        if labels.get(GPU_PRESENT_LABEL) == "true":
            entry["gpu"] = True
            del labels[GPU_PRESENT_LABEL]
        if labels.get(GPU_OPERANDS_LABEL) == "false":
            del labels[GPU_OPERANDS_LABEL]
        if "labels" in entry and not labels:
            del entry["labels"]
    if with_runtime:
        del raw["containerd_additional_runtimes"]
        for kept in (result.raw, result.templates):
            if "containerd_additional_runtimes" in kept:
                kept.remove("containerd_additional_runtimes")
        result.typed["containerd_additional_runtimes"] = "spec.addons.gpu.enabled"
    return True


def _host_raw(host: str, variables: dict[str, Any], result: ImportResult) -> None:
    for var, value in variables.items():
        typed = var in FIELD_VARIABLES or var in COMPOSITE_VARIABLES or var in DEEPCTL_OWNED
        if typed and not templated(value):
            result.problems.append(f"{var} is not the same on every host ({host}: "
                                   f"{value!r}); deepctl sets it once for the whole cluster")
            continue
        result.per_host.setdefault(host, []).append(var)


def _composite(spec: dict[str, Any], found: dict[str, Any], every: dict[str, Any],
               result: ImportResult) -> None:
    """Variables a typed field writes together with others (calico modes, kube-proxy...)."""
    modes = {k: found.get(k, every.get(k, d)) for k, d in CALICO_DEFAULTS.items()}
    if "calico_vxlan_mode" in found or "calico_ipip_mode" in found:
        _calico(spec, modes["calico_vxlan_mode"], modes["calico_ipip_mode"], result)
    for var in ("cilium_kube_proxy_replacement", "kube_router_run_service_proxy"):
        if var in found:
            if isinstance(found[var], bool):
                _set(spec, "kubernetes.kubeProxyReplacement", found[var])
                result.typed[var] = "spec.kubernetes.kubeProxyReplacement"
            else:
                result.problems.append(f"{var}: {found[var]!r} cannot be expressed: "
                                       "spec.kubernetes.kubeProxyReplacement is true or false")
    if "loadbalancer_apiserver" in found and "kube_vip_address" not in found:
        lb = found["loadbalancer_apiserver"]
        if isinstance(lb, dict) and set(lb) <= {"address", "port"} and "address" in lb:
            _set(spec, "kubernetes.apiServerLoadBalancer", dict(lb))
            result.typed["loadbalancer_apiserver"] = "spec.kubernetes.apiServerLoadBalancer"
        else:
            result.problems.append(f"loadbalancer_apiserver: {lb!r} cannot be expressed: "
                                   "spec.kubernetes.apiServerLoadBalancer holds address and port")
    if "containerd_registry_auth" in found:
        result.problems.append("containerd_registry_auth holds passwords: put each in a file and "
                               "list it under spec.kubernetes.containerd.registryAuth "
                               "(passwordFile)")
    _kube_vip(spec, found, result)


def _calico(spec: dict[str, Any], vxlan: Any, ipip: Any, result: ImportResult) -> None:
    on = {"Always", "CrossSubnet"}
    if vxlan in on and ipip == "Never":
        encapsulation, mode = "vxlan", vxlan
    elif ipip in on and vxlan == "Never":
        encapsulation, mode = "ipip", ipip
    elif vxlan == ipip == "Never":
        encapsulation, mode = "none", "Never"
    else:
        result.problems.append(f"calico_vxlan_mode {vxlan!r} with calico_ipip_mode {ipip!r} "
                               "cannot be expressed by spec.kubernetes.calico.encapsulation")
        return
    _set(spec, "kubernetes.calico.encapsulation", encapsulation)
    if mode == "CrossSubnet":
        _set(spec, "kubernetes.calico.crossSubnet", True)
    for var in ("calico_vxlan_mode", "calico_ipip_mode"):
        result.typed[var] = "spec.kubernetes.calico.encapsulation"


KUBE_VIP_KEYS = {"kube_vip_interface": "interface", "kube_vip_bgppeers": "bgpPeers",
                 "kube_vip_bgp_routerid": "bgpRouterId"}


def _kube_vip(spec: dict[str, Any], found: dict[str, Any], result: ImportResult) -> None:
    """kube-vip for the control plane (Kubespray's guide), as spec.kubernetes.kubeVip."""
    names = sorted(v for v in found if v.startswith("kube_vip_"))
    if not names:
        return
    arp, bgp = found.get("kube_vip_arp_enabled", False), found.get("kube_vip_bgp_enabled", False)
    lb = found.get("loadbalancer_apiserver")
    address = found.get("kube_vip_address")
    expected = {*KUBE_VIP_KEYS, "kube_vip_enabled", "kube_vip_controlplane_enabled",
                "kube_vip_address", "kube_vip_arp_enabled", "kube_vip_bgp_enabled"}
    if (found.get("kube_vip_enabled") is not True
            or found.get("kube_vip_controlplane_enabled") is not True
            or not isinstance(address, str) or arp == bgp or not set(names) <= expected
            or lb not in (None, {"address": address, "port": 6443})):
        result.problems.append(f"kube-vip settings ({', '.join(names)}) cannot be expressed: "
                               "spec.kubernetes.kubeVip is a control-plane VIP in arp or bgp mode")
        return
    vip: dict[str, Any] = {"address": address, "mode": "arp" if arp else "bgp"}
    vip.update({key: found[var] for var, key in KUBE_VIP_KEYS.items() if var in found})
    _set(spec, "kubernetes.kubeVip", vip)
    for var in [*names, *(["loadbalancer_apiserver"] if lb is not None else [])]:
        result.typed[var] = "spec.kubernetes.kubeVip"
