"""The Jobs ``deepctl verify`` applies at levels standard and full (pure: spec in, dicts out).

- **DCGM diagnostics** (standard: level 2, full: level 3): one Job per GPU node, pinned to
  it, asking for *all* its GPUs, so Kubernetes only starts it where no pod holds a GPU (a
  busy node leaves it Pending: verify reports it, unless ``--drain`` emptied the node).
- **Single-node NCCL all-reduce** (standard and full): one Job per node with 2 or more GPUs.
- **Multi-node NCCL all-reduce** (full): an Indexed Job, one pod per node (anti-affinity),
  with a headless Service naming the pods; pod 0 runs ``mpirun`` over SSH (a key made for
  this run, in a Secret; the same key is every pod's host key, so host keys are checked).
  One across all GPU nodes, one per ``spec.verify.groups`` group.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping
from typing import Any

from deepctl.clusterspec.models import TAINT, Cluster, Host
from deepctl.verify.images import DCGM_IMAGE, NCCL_TESTS_IMAGE, image_for

NAMESPACE = "deepctl-verify"
GPU = "nvidia.com/gpu"
MANAGED = {"app.kubernetes.io/managed-by": "deepctl"}
NODE_LABEL = "deepctl.io/node"
CHECK_LABEL = "deepctl.io/check"
GROUP_LABEL = "deepctl.io/nccl-group"
DCGM_DEADLINE_S = {2: 1800, 3: 7200}  # level 2 takes minutes, level 3 up to an hour and more
NCCL_DEADLINE_S = 1800
SSH_PORT = 2222
SSH_SECRET = "deepctl-verify-ssh"
ALL_REDUCE = "all_reduce_perf -b 1G -e 8G -f 2"  # large sizes: peak bus bandwidth

Manifest = dict[str, Any]


def object_name(prefix: str, name: str) -> str:
    """``prefix-name``, hashed when over 52 characters (a Job's pods add a suffix)."""
    full = f"{prefix}-{name}"
    return full if len(full) <= 52 else f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def tolerations(host: Host) -> list[dict[str, str]]:
    out = [{"key": GPU, "operator": "Exists", "effect": "NoSchedule"}]
    for taint in host.taints:
        if (m := TAINT.match(taint)) is not None:
            item = {"key": m["key"], "operator": "Equal" if m["value"] else "Exists",
                    "effect": m["effect"]}
            if m["value"]:
                item["value"] = m["value"]
            out.append(item)
    return out


CORDON = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}


def tolerate_cordon(docs: list[Manifest]) -> list[Manifest]:
    """``--drain``: the Jobs also run on the nodes verify cordoned for them."""
    for doc in docs:
        if doc.get("kind") == "Job":
            doc["spec"]["template"]["spec"]["tolerations"].append(dict(CORDON))
    return docs


def _labels(check: str, node: str | None = None) -> dict[str, str]:
    labels = {**MANAGED, "app.kubernetes.io/name": "deepctl-verify", CHECK_LABEL: check}
    if node is not None:
        labels[NODE_LABEL] = node
    return labels


def _job(name: str, labels: dict[str, str], pod: dict[str, Any], deadline: int,
         **spec: Any) -> Manifest:
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "spec": {"backoffLimit": 0, "activeDeadlineSeconds": deadline,
                 "ttlSecondsAfterFinished": 86400, **spec,
                 "template": {"metadata": {"labels": labels},
                              "spec": {"restartPolicy": "Never", "runtimeClassName": "nvidia",
                                       **pod}}},
    }


def _container(name: str, image: str, script: str, gpus: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "command": ["/bin/sh", "-c", script],
            "resources": {"limits": {GPU: gpus}}, **extra}


def dcgm_job(cluster: Cluster, host: Host, gpus: int, level: int) -> Manifest:
    """``dcgmi diag -r LEVEL -j`` with all of ``host``'s GPUs (its own hostengine)."""
    script = (f"nv-hostengine >/dev/null && sleep 2 && dcgmi diag -r {level} -j; rc=$?; "
              "nv-hostengine --term >/dev/null 2>&1; exit $rc")
    container = _container("dcgm-diag", image_for(cluster, DCGM_IMAGE), script, gpus,
                           securityContext={"capabilities": {"add": ["SYS_ADMIN"]}})
    pod = {"nodeSelector": {"kubernetes.io/hostname": host.name},
           "tolerations": tolerations(host), "containers": [container]}
    return _job(object_name("deepctl-dcgm", host.name), _labels(f"dcgm-{level}", host.name), pod,
                DCGM_DEADLINE_S[level])


def nccl_node_job(cluster: Cluster, host: Host, gpus: int) -> Manifest:
    """``all_reduce_perf -g GPUS`` on one node (NVLink/PCIe between its GPUs)."""
    container = _container("all-reduce", image_for(cluster, NCCL_TESTS_IMAGE),
                           f"exec {ALL_REDUCE} -g {gpus}", gpus)
    pod = {"nodeSelector": {"kubernetes.io/hostname": host.name},
           "tolerations": tolerations(host), "containers": [container]}
    return _job(object_name("deepctl-nccl", host.name), _labels("nccl-node", host.name), pod,
                NCCL_DEADLINE_S)


def _launcher_script(job: str, service: str, pods: int, gpus: int) -> str:
    names = " ".join(f"{job}-{i}.{service}" for i in range(pods))
    hosts = ",".join(f"{job}-{i}.{service}:{gpus}" for i in range(pods))
    mpirun = (f"mpirun --allow-run-as-root -np {pods * gpus} -H {hosts} --bind-to none "
              f"-mca plm_rsh_args '-p {SSH_PORT}' -x NCCL_DEBUG=WARN {ALL_REDUCE} -g 1")
    return "\n".join([
        "set -e",
        "mkdir -p /root/.ssh && chmod 700 /root/.ssh",
        "cp /etc/deepctl-ssh/id /root/.ssh/id_ed25519 && chmod 600 /root/.ssh/id_ed25519",
        "cp /etc/deepctl-ssh/id.pub /root/.ssh/authorized_keys",
        f'echo "[*]:{SSH_PORT} $(cat /etc/deepctl-ssh/id.pub)" > /root/.ssh/known_hosts',
        "mkdir -p /run/sshd",
        f"/usr/sbin/sshd -p {SSH_PORT} -h /root/.ssh/id_ed25519",
        'if [ "$JOB_COMPLETION_INDEX" = 0 ]; then',
        f"  for h in {names}; do",
        f"    until ssh -p {SSH_PORT} -o BatchMode=yes $h true 2>/dev/null; do sleep 2; done",
        "  done",
        f"  rc=0; {mpirun} || rc=$?",
        f"  for h in {names}; do ssh -p {SSH_PORT} $h touch /tmp/deepctl-done || true; done",
        "  exit $rc",
        "fi",
        "until [ -f /tmp/deepctl-done ]; do sleep 5; done",
    ])


def nccl_group_manifests(cluster: Cluster, group: str, hosts: list[Host],
                         gpus: int) -> list[Manifest]:
    """The headless Service and the Indexed Job of one multi-node all-reduce."""
    job = object_name("deepctl-nccl-mn", group)
    labels = {**_labels("nccl-multi"), GROUP_LABEL: group}
    service: Manifest = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": job, "namespace": NAMESPACE, "labels": labels},
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": True,
                 "selector": {GROUP_LABEL: group, CHECK_LABEL: "nccl-multi"},
                 "ports": [{"name": "ssh", "port": SSH_PORT, "protocol": "TCP"}]},
    }
    container = _container(
        "all-reduce", image_for(cluster, NCCL_TESTS_IMAGE),
        _launcher_script(job, job, len(hosts), gpus), gpus,
        ports=[{"name": "ssh", "containerPort": SSH_PORT}],
        volumeMounts=[{"name": "ssh", "mountPath": "/etc/deepctl-ssh", "readOnly": True}])
    tolerations_all = {tuple(sorted(t.items())): t for h in hosts for t in tolerations(h)}
    pod = {
        "subdomain": job,
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{
                    "key": "kubernetes.io/hostname", "operator": "In",
                    "values": [h.name for h in hosts]}]}]}},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "topologyKey": "kubernetes.io/hostname",
                "labelSelector": {"matchLabels": {GROUP_LABEL: group}}}]},
        },
        "tolerations": list(tolerations_all.values()),
        "containers": [container],
        "volumes": [{"name": "ssh", "secret": {"secretName": SSH_SECRET, "defaultMode": 0o400}}],
    }
    return [service, _job(job, labels, pod, NCCL_DEADLINE_S, completionMode="Indexed",
                          completions=len(hosts), parallelism=len(hosts))]


def ssh_secret(private_key: str, public_key: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": SSH_SECRET, "namespace": NAMESPACE, "labels": _labels("ssh")},
            "stringData": {"id": private_key, "id.pub": public_key}}


def groups(cluster: Cluster, gpus: Mapping[str, int]) -> dict[str, list[Host]]:
    """Multi-node groups: ``all`` GPU nodes, then each ``spec.verify.groups`` group (GPU
    nodes with a known GPU count only; groups of fewer than 2 such nodes are left out)."""
    usable = [h for h in cluster.gpu_hosts if gpus.get(h.name, 0) > 0]
    out = {"all": usable}
    for name, members in cluster.spec.verify.groups.items():
        out[name] = [h for h in usable if h.name in members]
    return {name: hosts for name, hosts in out.items() if len(hosts) >= 2}


def srun_all_reduce_argv(partition: str, nodes: int, gpus: int) -> list[str]:
    """The Slurm form of the multi-node all-reduce, run in the login pod (nccl-tests and
    PMIx on the Slurm nodes): one task per GPU on ``nodes`` nodes of ``partition``."""
    return ["srun", f"--partition={partition}", f"--nodes={nodes}",
            f"--ntasks-per-node={gpus}", f"--gres=gpu:{gpus}", "--mpi=pmix",
            "--job-name=deepctl-nccl", *ALL_REDUCE.split(), "-g", "1"]


def srun_all_reduce(partition: str, nodes: int, gpus: int) -> str:
    """:func:`srun_all_reduce_argv` as one shell line."""
    return shlex.join(srun_all_reduce_argv(partition, nodes, gpus))
