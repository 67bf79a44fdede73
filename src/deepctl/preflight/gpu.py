"""GPU checks: pure functions of the gathered ``nvidia-smi`` / ``lspci`` facts and the spec."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from deepctl.clusterspec.models import Cluster, Host
from deepctl.preflight.model import Finding, HostFacts, error, ok, warning

GPU_PCI_CLASSES = ("[0300]", "[0302]")  # VGA / 3D controller; not NVSwitch bridges or audio


def pci_gpu_count(facts: HostFacts) -> int:
    return sum(1 for line in facts.pci_gpus if any(c in line for c in GPU_PCI_CLASSES))


def gpu_count(facts: HostFacts) -> int:
    return len(facts.gpus) or pci_gpu_count(facts)


PCI_MODEL = re.compile(r"NVIDIA Corporation [^\[]*\[(?P<model>[^\]]+)\] \[10de:")


@dataclass(frozen=True)
class GpuInventory:
    """A host's GPUs as preflight saw them: how many, and the (most common) model's name."""

    count: int
    model: str = ""  # "NVIDIA H100 80GB HBM3" (nvidia-smi) or "H100 SXM5 80GB" (lspci); "": unknown


def gpu_model(facts: HostFacts) -> str:
    """nvidia-smi's name of the most common GPU, else the bracketed lspci name, else ""."""
    if facts.gpus:
        return Counter(g.name for g in facts.gpus).most_common(1)[0][0]
    names = [m["model"] for line in facts.pci_gpus if any(c in line for c in GPU_PCI_CLASSES)
             if (m := PCI_MODEL.search(line))]
    return Counter(names).most_common(1)[0][0] if names else ""


def gpu_inventory(facts: HostFacts) -> GpuInventory:
    return GpuInventory(gpu_count(facts), gpu_model(facts))


def describe_gpus(facts: HostFacts) -> str:
    if facts.gpus:
        models = Counter(g.name for g in facts.gpus)
        return ", ".join(f"{n}x {name}" for name, n in models.items())
    return f"{pci_gpu_count(facts)} NVIDIA GPU(s) on the PCI bus"


def driver_version(facts: HostFacts) -> str | None:
    if facts.nvidia_smi_rc == 0 and facts.gpus:
        return facts.gpus[0].driver_version
    return None


def check_gpus(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    if not host.gpu:
        return _unexpected_gpus(host, facts)
    count = gpu_count(facts)
    if count == 0:
        return [error(host.name, "gpu", "gpu.present",
                      "no NVIDIA GPU found (lspci shows none and nvidia-smi lists none)",
                      "check that this is the GPU server and the GPUs are seated/passed "
                      "through; set gpu: false for hosts without GPUs")]
    out = [ok(host.name, "gpu", "gpu.present", describe_gpus(facts))]
    if cluster.spec.addons.gpu.enabled:
        out += _driver(cluster, host, facts)
        out += _mig(cluster, host, facts)
    return out


def _unexpected_gpus(host: Host, facts: HostFacts) -> list[Finding]:
    count = gpu_count(facts)
    if count == 0:
        return []
    return [warning(host.name, "gpu", "gpu.unexpected",
                    f"{describe_gpus(facts)} found, but the host is gpu: false",
                    "set gpu: true on this host to schedule GPU work on it")]


def _driver(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    install = cluster.spec.addons.gpu.driver.install
    version = driver_version(facts)
    if version is not None and install:
        return [error(host.name, "gpu", "gpu.driver",
                      f"driver {version} is installed on the host, but "
                      "addons.gpu.driver.install is true: the operator's driver would clash",
                      "set addons.gpu.driver.install: false to use the installed driver, or "
                      "uninstall it from the host (e.g. `apt purge '*nvidia*'`) and reboot")]
    if version is not None:
        return [ok(host.name, "gpu", "gpu.driver", f"driver {version} (preinstalled)")]
    if install:
        return [ok(host.name, "gpu", "gpu.driver",
                   "no driver on the host: the GPU Operator installs it")]
    return [error(host.name, "gpu", "gpu.driver", _no_driver_text(facts),
                  "install the NVIDIA driver on the host (e.g. `apt install "
                  "nvidia-driver-570-server` and reboot), or set addons.gpu.driver.install: "
                  "true to let the GPU Operator install it")]


def _no_driver_text(facts: HostFacts) -> str:
    base = "no working NVIDIA driver, and addons.gpu.driver.install is false"
    if facts.nvidia_smi_rc is None:
        return f"{base} (nvidia-smi is not installed)"
    said = facts.nvidia_smi_output.strip().splitlines()
    first = f": {said[0][:120]}" if said else ""
    return f"{base} (nvidia-smi exits {facts.nvidia_smi_rc}{first})"


def _mig(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    if not facts.gpus:
        return []  # no driver: MIG mode cannot be read
    strategy = cluster.spec.addons.gpu.mig.strategy
    enabled = [g.index for g in facts.gpus if g.mig_mode.lower() == "enabled"]
    ids = ", ".join(map(str, enabled))
    if strategy == "none":
        if enabled:
            return [warning(host.name, "gpu", "gpu.mig",
                            f"MIG is enabled on GPU {ids}, but addons.gpu.mig.strategy is none: "
                            "those GPUs are not schedulable as whole GPUs",
                            "set addons.gpu.mig.strategy to single or mixed, or disable MIG "
                            "(`nvidia-smi -i N -mig 0`, then reset the GPU)")]
        return [ok(host.name, "gpu", "gpu.mig", "MIG off (strategy none)")]
    if not enabled:
        return [error(host.name, "gpu", "gpu.mig",
                      f"addons.gpu.mig.strategy is {strategy}, but MIG is not enabled on "
                      "any GPU of this host",
                      "enable MIG (`nvidia-smi -i N -mig 1`, then reset the GPU) on "
                      "MIG-capable GPUs (A100/H100), or set addons.gpu.mig.strategy: none")]
    if strategy == "single" and len(enabled) != len(facts.gpus):
        return [warning(host.name, "gpu", "gpu.mig",
                        f"MIG is enabled on GPU {ids} only; strategy single expects every "
                        "GPU of a node in MIG mode",
                        "enable MIG on all GPUs of the host, or use strategy mixed")]
    return [ok(host.name, "gpu", "gpu.mig", f"MIG enabled on GPU {ids} (strategy {strategy})")]
