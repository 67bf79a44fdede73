"""Rules about Kubespray variables: raw kubesprayVars and the typed Kubespray fields (pure)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from importlib import resources

import yaml

from deepctl.clusterspec.addon_rules import helm_addons
from deepctl.clusterspec.finding import Finding, PathKey, closest
from deepctl.clusterspec.kubespray_map import TYPED_VARIABLES, field_value, is_template
from deepctl.clusterspec.models import Cluster
from deepctl.kubespray.release import is_kubespray_default, load_release

# Ansible connection variables: deepctl's own SSH (preflight, status) and Ansible must reach
# every host the same way, so only spec.ssh and spec.hosts say how.
CONNECTION_VARIABLES: dict[str, str] = {
    "ansible_host": "set spec.hosts[].address",
    "ansible_ssh_host": "set spec.hosts[].address",
    "ansible_port": "set spec.ssh.port (or spec.hosts[].ssh.port)",
    "ansible_ssh_port": "set spec.ssh.port (or spec.hosts[].ssh.port)",
    "ansible_user": "set spec.ssh.user (or spec.hosts[].ssh.user)",
    "ansible_ssh_user": "set spec.ssh.user (or spec.hosts[].ssh.user)",
    "ansible_ssh_private_key_file": "set spec.ssh.identityFile (or spec.hosts[].ssh.identityFile)",
    "ansible_private_key_file": "set spec.ssh.identityFile (or spec.hosts[].ssh.identityFile)",
    "ansible_connection": "deepctl always connects over SSH; remove it",
    "ansible_ssh_common_args": "for a jump host set spec.ssh.bastion; remove it",
    "ansible_ssh_extra_args": "for a jump host set spec.ssh.bastion; remove it",
    "ansible_become": "set spec.ssh.become",
}
# Names of passwords: never in a spec, an inventory deepctl renders, or its logs.
PASSWORD_NAME = re.compile(r"pass(word|wd|phrase)?(_|\Z)")
PASSWORD_HINT = ("a password in the spec is a password in plain text in every copy of the spec "
                 "and of the inventory deepctl renders; keep it in a file only you can read and "
                 "give Ansible a lookup of it: {name}: \"{{{{ lookup('file', '/path/to/file') }}}}\"")


@functools.cache
def ansible_connection_variables() -> dict[str, str]:
    """Every variable that changes how Ansible reaches a host or becomes root on it, and what
    reads it: taken from the installed ansible-core's ssh, paramiko_ssh and become plugins and
    its play context (scripts/gen_ansible_connection_vars.py; a test keeps it current)."""
    resource = resources.files("deepctl.data").joinpath("ansible-connection-variables.yml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    variables: dict[str, str] = yaml.load(resource.read_text(encoding="utf-8"),
                                          Loader=loader)["variables"]
    return variables


def is_password_name(name: str) -> bool:
    """True for a variable named as a password (ansible_become_pass, cinder_password, ...)."""
    return bool(PASSWORD_NAME.search(name.lower()))


def connection_refusal(name: str) -> str | None:
    """Why ``name`` may not be set by a spec or an imported inventory, or None."""
    if name in CONNECTION_VARIABLES:
        return (f"{name!r} is an Ansible connection variable: deepctl and Ansible must reach "
                f"the hosts the same way; {CONNECTION_VARIABLES[name]}")
    readers = ansible_connection_variables().get(name)
    if readers is not None:
        what = "password" if is_password_name(name) else "setting"
        listed = readers.split("; ")
        reader = next((r for r in listed if " ssh," in r or " sudo," in r), listed[0])
        return (f"{name!r} is an Ansible connection {what} ({reader}): nothing "
                "in the spec may change how deepctl reaches a host or becomes root on it "
                "(deepctl logs in with spec.ssh's key and uses passwordless sudo); remove it")
    return None


def is_lookup(value: object) -> bool:
    """True for a value that is one Jinja expression and nothing else (a lookup of a file)."""
    text = value.strip() if isinstance(value, str) else ""
    return text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1


# Variables deepctl derives itself (host variables from spec.hosts, its own needs).
DEEPCTL_VARIABLES: dict[str, str] = {
    "kubeconfig_localhost": "deepctl needs the admin kubeconfig Kubespray writes",
    "ip": "set spec.hosts[].internalAddress",
    "access_ip": "set spec.hosts[].internalAddress",
    "ip6": "set spec.hosts[].internalAddress6",
    "access_ip6": "set spec.hosts[].internalAddress6",
    "node_labels": "set spec.hosts[].labels",
    "node_taints": "set spec.hosts[].taints",
}
# Names an inventory may set that no Kubespray file reads by name (Ansible's own settings).
INVENTORY_ONLY_VARS = frozenset({"ansible_python_interpreter", "etcd_member_name"})
OWNED_KUBESPRAY_VARS = frozenset(CONNECTION_VARIABLES) | frozenset(DEEPCTL_VARIABLES) | frozenset(
    TYPED_VARIABLES
)
MAX_LISTED = 20  # unknown kubesprayVars names listed in one warning


def check_kubespray_vars(cluster: Cluster) -> Iterator[Finding]:
    """Each kubesprayVars name (cluster-wide and per host): refused, pointed at its field,
    retired, or unknown."""
    yield from _check_raw(cluster, cluster.spec.kubespray_vars, ("spec", "kubesprayVars"))
    for index, host in enumerate(cluster.spec.hosts):
        yield from _check_raw(cluster, host.kubespray_vars,
                              ("spec", "hosts", index, "kubesprayVars"))


def _check_raw(cluster: Cluster, variables: dict[str, object], at: PathKey) -> Iterator[Finding]:
    release = load_release()
    known = release.variables | INVENTORY_ONLY_VARS
    deepctl = dict(DEEPCTL_VARIABLES)
    if cluster.spec.addons.gpu.enabled and cluster.spec.kubernetes.container_runtime == "containerd":
        deepctl["containerd_additional_runtimes"] = "it carries the GPU addon's nvidia runtime"
    unknown = []
    for name, value in variables.items():
        path = (*at, name)
        refusal = connection_refusal(name)
        if refusal is not None:
            yield Finding(path, refusal)
        elif is_password_name(name) and not is_lookup(value):
            yield Finding(path, f"{name!r} holds a password: {PASSWORD_HINT.format(name=name)}")
        elif name in TYPED_VARIABLES:
            yield from _typed_in_raw(cluster, name, value, path)
        elif name in deepctl:
            yield Finding(path, f"{name!r} is set by deepctl ({deepctl[name]})")
        elif name in release.retired:
            yield Finding(path, f"{name!r} has no effect in Kubespray {release.tag}: "
                          f"{release.retired[name]}", "warning")
        elif name not in known:
            unknown.append(name)
    if unknown:
        # Suggestions cost a fuzzy search over ~2,000 names each: only for the first few.
        shown = [_with_suggestion(name, known) for name in unknown[:MAX_LISTED]]
        more = f" and {len(unknown) - MAX_LISTED} more" if len(unknown) > MAX_LISTED else ""
        yield Finding(at, f"Kubespray {release.tag} defines no variable named: "
                      f"{', '.join(shown)}{more}", "warning")


def _typed_in_raw(cluster: Cluster, name: str, value: object, at: PathKey) -> Iterator[Finding]:
    path = TYPED_VARIABLES[name]
    explicit = field_value(cluster, path)[1]
    if not is_template(value):
        if explicit or not is_kubespray_default(name, value):
            yield Finding(at, f"{name!r} has a typed field: set spec.{path} instead (only an "
                          "Ansible template of it, or Kubespray's own default, may stay in "
                          "kubesprayVars)")
    elif explicit:
        yield Finding(at, f"{name!r} is given twice: by spec.{path} and as a template "
                      "here; keep one")


def _with_suggestion(name: str, known: frozenset[str]) -> str:
    near = closest(name, known)
    return f"{name} (did you mean {near}?)" if near else name


def _k8s(*rest: str) -> PathKey:
    return ("spec", "kubernetes", *rest)


def check_kubespray_fields(cluster: Cluster) -> Iterator[Finding]:
    """Typed Kubespray fields that contradict each other or the network plugin."""
    k8s = cluster.spec.kubernetes
    if k8s.etcd.deployment_type == "docker" and k8s.container_runtime != "docker":
        yield Finding(_k8s("etcd", "deploymentType"), "etcd deploymentType 'docker' needs "
                      "containerRuntime: docker; use host or kubeadm")
    if k8s.kube_proxy_replacement is not None and k8s.network_plugin not in ("cilium", "kube-router"):
        yield Finding(_k8s("kubeProxyReplacement"), "only the cilium and kube-router network "
                      f"plugins replace kube-proxy, not {k8s.network_plugin!r}")
    calico = k8s.calico
    if calico.cross_subnet is not None and calico.encapsulation in (None, "none"):
        yield Finding(_k8s("calico", "crossSubnet"),
                      "crossSubnet needs calico.encapsulation: vxlan or ipip")
    if k8s.network_plugin != "calico" and calico.model_fields_set:
        yield Finding(_k8s("calico"), f"calico settings do nothing with networkPlugin "
                      f"{k8s.network_plugin!r}", "warning")
    if k8s.kube_vip is not None and k8s.api_server_load_balancer is not None:
        yield Finding(_k8s("kubeVip"), "kubeVip and apiServerLoadBalancer both front the API; "
                      "keep one")
    if k8s.kube_vip is not None and k8s.kube_vip.mode == "bgp" and not k8s.kube_vip.bgp_peers:
        yield Finding(_k8s("kubeVip", "bgpPeers"), "kube-vip in bgp mode needs bgpPeers")
    if (k8s.kube_vip is not None and k8s.kube_vip.mode == "arp" and k8s.proxy_mode == "ipvs"
            and not k8s.strict_arp):
        yield Finding(_k8s("kubeVip", "mode"), "kube-vip in arp mode with proxyMode ipvs needs "
                      "strictArp: true (spec.kubernetes.strictArp)")
    external = k8s.api_server_load_balancer is not None or k8s.kube_vip is not None
    if (len(cluster.control_plane) > 1 and not external
            and k8s.local_api_server_load_balancer.enabled is False):
        yield Finding(_k8s("localApiServerLoadBalancer", "enabled"), "with several control "
                      "planes, no apiServerLoadBalancer or kubeVip and the local load balancer "
                      "off, every node reaches the API through the first control plane only",
                      "warning")
    stack = k8s.dual_stack
    if stack.ipv4 is False and not stack.ipv6:
        yield Finding(_k8s("dualStack", "ipv4"), "with ipv4: false, set ipv6: true (IPv6 only)")
    with_v6 = [h.name for h in cluster.spec.hosts if h.internal_address6 is not None]
    if with_v6 and not stack.ipv6:
        yield Finding(_k8s("dualStack", "ipv6"), f"hosts {', '.join(with_v6)} have an "
                      "internalAddress6 but IPv6 is off; set dualStack.ipv6: true", "warning")
    if k8s.containerd.model_fields_set and k8s.container_runtime != "containerd":
        yield Finding(_k8s("containerd"), f"containerd options do nothing with containerRuntime "
                      f"{k8s.container_runtime!r}", "warning")
    if k8s.crio.model_fields_set and k8s.container_runtime != "crio":
        yield Finding(_k8s("crio"), f"CRI-O options do nothing with containerRuntime "
                      f"{k8s.container_runtime!r}", "warning")
    if cluster.spec.addons.gpu.enabled and k8s.container_runtime == "docker":
        yield Finding(_k8s("containerRuntime"), "the GPU addon configures the NVIDIA runtime for "
                      "containerd and CRI-O only; with docker it is left to the GPU Operator's "
                      "defaults", "warning")
    yield from _helm(cluster)


def _helm(cluster: Cluster) -> Iterator[Finding]:
    users = helm_addons(cluster)
    if cluster.spec.kubernetes.helm is False and users:
        yield Finding(_k8s("helm"), f"helm: false, but the enabled addons {', '.join(users)} are "
                      "installed with helm; remove helm: false or disable them")
