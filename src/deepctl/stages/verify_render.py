"""What ``deepctl verify --level L`` applies, as files (``--render DIR``, and the runner's
manifests): the CUDA smoke Jobs (every level), DCGM diagnostics and NCCL all-reduce Jobs
(:mod:`deepctl.verify.manifests`), and the Slurm form of the multi-node all-reduce.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from deepctl.addons.manifests import namespace_manifest
from deepctl.clusterspec.models import Cluster, Host
from deepctl.clusterspec.verify import VerifyLevel
from deepctl.names import summary
from deepctl.shellwords import deepctl_command
from deepctl.stages import verify_gpu
from deepctl.verify import manifests as m

SMOKE_FILE = "10-gpu-smoke.yaml"
DCGM_FILE = "20-dcgm-diag.yaml"
NCCL_NODE_FILE = "30-nccl-node.yaml"
SSH_FILE = "40-ssh-secret.yaml"
SLURM_FILE = "slurm-all-reduce.sh"


def launcher_key() -> tuple[str, str]:
    """A new Ed25519 key (OpenSSH private, public) for one run's multi-node launcher."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} deepctl-verify"


@dataclass
class Rendered:
    """File name -> text, in apply order, and notes on what was left out and why."""

    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _yaml(docs: list[m.Manifest], drain: bool = False) -> str:
    if drain:
        m.tolerate_cordon(docs)
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)


def selected_gpu_hosts(cluster: Cluster, nodes: Sequence[str] | None) -> list[Host]:
    return [h for h in cluster.gpu_hosts if nodes is None or h.name in nodes]


def render(cluster: Cluster, level: VerifyLevel, gpus: Mapping[str, int],
           nodes: Sequence[str] | None = None,
           ssh_key: tuple[str, str] | None = None, spec_path: str = "SPEC",
           drain: bool = False) -> Rendered:
    """The manifests of ``level`` for the GPU hosts (``nodes``: only those), with the GPU
    counts preflight saw (``gpus``; a host without one gets the smoke Job only); ``drain``:
    the checks tolerate the cordon ``--drain`` puts on their nodes."""
    out = Rendered({"00-namespace.yaml": namespace_manifest(m.NAMESPACE)})
    hosts = selected_gpu_hosts(cluster, nodes)
    if not cluster.spec.addons.gpu.enabled or not hosts:
        out.notes.append("no GPU node to verify (addons.gpu off or no host with gpu: true)")
        return out
    image = verify_gpu.smoke_image(cluster)
    out.files[SMOKE_FILE] = _yaml([verify_gpu.smoke_job(h, m.GPU, image) for h in hosts])
    if level == "quick":
        return out
    counted = [h for h in hosts if gpus.get(h.name, 0) > 0]
    unknown = [h.name for h in hosts if h not in counted]
    if unknown:
        out.notes.append(f"no GPU count from preflight for {summary(unknown)}: CUDA smoke "
                         f"only there (run `{deepctl_command('preflight', spec_path)}` first)")
    dcgm_level = 2 if level == "standard" else 3
    if counted:
        out.files[DCGM_FILE] = _yaml([m.dcgm_job(cluster, h, gpus[h.name], dcgm_level)
                                      for h in counted], drain)
    multi_gpu = [h for h in counted if gpus[h.name] >= 2]
    if multi_gpu:
        out.files[NCCL_NODE_FILE] = _yaml([m.nccl_node_job(cluster, h, gpus[h.name])
                                           for h in multi_gpu], drain)
    if level == "full":
        _multi_node(cluster, {h.name: gpus[h.name] for h in counted}, out, ssh_key, drain)
    return out


def _multi_node(cluster: Cluster, gpus: Mapping[str, int], out: Rendered,
                ssh_key: tuple[str, str] | None, drain: bool) -> None:
    groups = m.groups(cluster, gpus)
    if not groups:
        out.notes.append("multi-node all-reduce needs 2 or more GPU nodes with a GPU count")
        return
    if ssh_key is None:
        raise ValueError("level full needs an SSH key for the multi-node launcher")
    out.files[SSH_FILE] = _yaml([m.ssh_secret(*ssh_key)])
    for i, (name, hosts) in enumerate(groups.items()):
        per_node = min(gpus[h.name] for h in hosts)
        out.files[f"{50 + i}-nccl-multi-{name}.yaml"] = _yaml(
            m.nccl_group_manifests(cluster, name, hosts, per_node), drain)
    if cluster.spec.addons.slurm.enabled:
        from deepctl.addons.slurm import slurm_layout
        from deepctl.preflight.gpu import GpuInventory

        layout = slurm_layout(cluster, {h: GpuInventory(n) for h, n in gpus.items()})
        lines = [m.srun_all_reduce(p.name, len(p.hosts), p.gpus)
                 for p in layout.partitions if p.gpus > 0 and len(p.hosts) >= 2]
        if lines:
            out.files[SLURM_FILE] = "\n".join(
                ["# run in the Slurm login pod: the multi-node all-reduce through Slurm", *lines,
                 ""])
