"""Verify, Slurm part: an ``srun`` smoke job on each GPU partition, from the login node.

With ``addons.slurm`` on, the verify stage runs ``templates/playbooks/slurm-smoke.yml`` on the first
control plane: it finds the running login pod (LoginSet ``slurm-login-login``) and, per GPU
partition, runs in it ``srun --partition=P --nodes=1 --gres=gpu:N`` of ``nvidia-smi -L``,
where N is the GPU count of the partition's smallest node (so Slurm must see all its GPUs).
The job prints the Slurm node it ran on; deepctl maps it to the Kubernetes node through the
slurmd pods. A partition fails when ``srun`` fails or ``nvidia-smi`` lists other than N GPUs,
and the error names the partition, the Slurm node and the Kubernetes node.
Pure parts: :func:`smoke_items`, :func:`smoke_outcome`, :func:`describe_failure`.

At level full, the same playbook then runs the multi-node all-reduce through Slurm on each
GPU partition of 2 or more nodes (``srun --mpi=pmix ... all_reduce_perf``, one task per GPU,
:func:`deepctl.verify.manifests.srun_all_reduce_argv`), and deepctl parses and judges its
output like the Kubernetes run (``spec.verify.expect["multi-node"]``, else measured only):
one ``nccl-slurm`` finding per partition (:func:`all_reduce_items`, :func:`judge_all_reduce`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deepctl.addons.slurm import Partition, slurm_layout
from deepctl.clusterspec.verify import VerifyConfig
from deepctl.errors import DeepctlError
from deepctl.shellwords import deepctl_command
from deepctl.stages.context import StageContext
from deepctl.stages.verify_gpu import items
from deepctl.templates import playbook_path as templates_playbook
from deepctl.verify import figures
from deepctl.verify import manifests as m
from deepctl.verify import results as res

NAMESPACE = "slurm"  # the slurm release's namespace (addons.registry)
LOGIN_SELECTOR = "app.kubernetes.io/instance=slurm-login-login"
JOB_NAME = "deepctl-smoke"
SRUN_WAIT_S = 300  # --immediate: give up when no node is allocated within this
SRUN_TIME_MIN = 5  # --time: the job's own limit
EXEC_TIMEOUT_S = SRUN_WAIT_S + 60 * SRUN_TIME_MIN + 60
LOG_TAIL_LINES = 20
ALL_REDUCE_TIMEOUT_S = m.NCCL_DEADLINE_S + SRUN_WAIT_S  # allocation, then the run
ALL_REDUCE_CHECK = "nccl-slurm"
PODS_TASK = "Slurm pods"
LOGIN_TASK = "Slurm login pod"
SMOKE_TASK = "Slurm smoke jobs"
NODE_LINE = re.compile(r"^deepctl-node=(?P<node>\S+)$", re.MULTILINE)
SRUN_ERROR_NODE = re.compile(r"srun: error: (?P<node>[A-Za-z0-9._-]+): task")

Event = dict[str, Any]


def srun_argv(partition: Partition) -> list[str]:
    """The command run in the login pod for one GPU partition."""
    return ["srun", f"--partition={partition.name}", "--nodes=1", "--ntasks=1",
            f"--gres=gpu:{partition.gpus}", f"--time={SRUN_TIME_MIN}",
            f"--immediate={SRUN_WAIT_S}", f"--job-name={JOB_NAME}",
            "sh", "-c", 'echo "deepctl-node=$SLURMD_NODENAME"; nvidia-smi -L']


def smoke_items(partitions: tuple[Partition, ...]) -> list[dict[str, Any]]:
    """The playbook's loop: ``[{partition, gpus, srun}]``."""
    return [{"partition": p.name, "gpus": p.gpus, "srun": srun_argv(p)} for p in partitions]


@dataclass(frozen=True)
class SlurmSmokeOutcome:
    partition: str
    ok: bool
    slurm_node: str = ""  # "" when srun got no node
    kube_node: str = ""
    detail: str = ""
    log_tail: str = ""


def kube_nodes(pods_json: str) -> dict[str, str]:
    """``{pod hostname or name: Kubernetes node}`` of the slurm namespace's pods."""
    out: dict[str, str] = {}
    for pod in items(pods_json):
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        for name in ((pod.get("spec") or {}).get("hostname"), pod.get("metadata", {}).get("name")):
            if name and node:
                out[str(name)] = node
    return out


def smoke_outcome(partition: str, gpus: int, result: dict[str, Any], nodes: dict[str, str]
                  ) -> SlurmSmokeOutcome:
    """One partition's job from the exec's rc/stdout/stderr (``result``) and the pod map."""
    stdout, stderr = str(result.get("stdout") or ""), str(result.get("stderr") or "")
    rc = result.get("rc")
    found = NODE_LINE.search(stdout) or SRUN_ERROR_NODE.search(stderr)
    node = found["node"] if found else ""
    listed = sum(1 for line in stdout.splitlines() if line.startswith("GPU "))
    if rc is None:
        detail = "the job did not run"
    elif rc != 0:
        detail = f"exit code {rc}"
    elif listed != gpus:
        detail = f"nvidia-smi listed {listed} GPU(s), expected {gpus}"
    else:
        return SlurmSmokeOutcome(partition, True, node, nodes.get(node, ""))
    tail = "\n".join((stderr + "\n" + stdout).strip().splitlines()[-LOG_TAIL_LINES:])
    return SlurmSmokeOutcome(partition, False, node, nodes.get(node, ""), detail, tail)


def describe_failure(outcome: SlurmSmokeOutcome) -> str:
    where = f"partition {outcome.partition}"
    if outcome.slurm_node:
        where += f", Slurm node {outcome.slurm_node}"
        if outcome.kube_node:
            where += f" (Kubernetes node {outcome.kube_node})"
    else:
        where += " (no node was allocated)"
    text = f"srun smoke job failed on {where}: {outcome.detail}"
    if outcome.log_tail:
        text += "\n      " + "\n      ".join(outcome.log_tail.splitlines())
    return text


def playbook_path() -> Path:
    return templates_playbook("slurm-smoke.yml")


@dataclass
class _Capture:
    pods: str = ""
    login: str = ""
    results: dict[str, dict[str, Any]] | None = None

    def handler(self) -> Callable[[Event], None]:
        self.results = {}

        def capture(event: Event) -> None:
            data = event.get("event_data") or {}
            res, task = data.get("res") or {}, data.get("task")
            if event.get("event") in ("runner_on_ok", "runner_on_failed"):
                if task == PODS_TASK:
                    self.pods = str(res.get("stdout", ""))
                elif task == LOGIN_TASK:
                    self.login = str(res.get("stdout", "")).strip()
            elif event.get("event") in ("runner_item_on_ok", "runner_item_on_failed") \
                    and task == SMOKE_TASK and self.results is not None:
                self.results[str((res.get("item") or {}).get("partition", ""))] = res
        return capture


def all_reduce_partitions(partitions: tuple[Partition, ...]) -> list[Partition]:
    """The GPU partitions a multi-node all-reduce runs on (2 or more nodes)."""
    return [p for p in partitions if p.gpus > 0 and len(p.hosts) >= 2]


def all_reduce_items(partitions: list[Partition]) -> list[dict[str, Any]]:
    """The playbook's loop for the all-reduce: ``[{partition, gpus, srun}]``."""
    return [{"partition": p.name, "gpus": p.gpus,
             "srun": m.srun_all_reduce_argv(p.name, len(p.hosts), p.gpus)} for p in partitions]


def judge_all_reduce(partition: Partition, result: dict[str, Any], config: VerifyConfig
                     ) -> res.Finding:
    """One partition's ``srun ... all_reduce_perf`` (the exec's rc/stdout/stderr), judged like
    the Kubernetes multi-node run."""
    name = f"slurm partition {partition.name}"
    rc = result.get("rc")
    stdout, stderr = str(result.get("stdout") or ""), str(result.get("stderr") or "")
    tail = " | ".join(stderr.strip().splitlines()[-3:])
    if rc is None:
        return res.Finding(name, ALL_REDUCE_CHECK, "fail", "the srun job did not run")
    found = res.judge_nccl_multi(partition.name, list(partition.hosts), stdout,
                                 figure=figures.multi_node(config, len(partition.hosts)))
    found = replace(found, node=name, check=ALL_REDUCE_CHECK)
    if rc != 0:
        return replace(found, verdict="fail",
                       why=f"srun exit code {rc}" + (f": {tail}" if tail else ""))
    return found


def run_slurm_all_reduce(ctx: StageContext) -> list[res.Finding]:
    """Level full, Slurm part: the all-reduce through ``srun`` on each GPU partition of 2 or
    more nodes, one finding per partition ([] when there is none)."""
    from deepctl.addons.playbook import require_gpu_facts, saved_gpus

    layout = slurm_layout(ctx.cluster, saved_gpus(ctx.ws))
    require_gpu_facts(ctx.ws, layout.missing_facts)
    partitions = all_reduce_partitions(layout.gpu_partitions)
    if not partitions:
        ctx.record.log("verify: no Slurm GPU partition of 2 or more nodes; no srun all-reduce")
        return []
    capture = _Capture()
    extravars = {"deepctl_slurm_namespace": NAMESPACE, "deepctl_slurm_login_selector": LOGIN_SELECTOR,
                 "deepctl_slurm_smoke": all_reduce_items(partitions),
                 "deepctl_slurm_timeout": ALL_REDUCE_TIMEOUT_S}
    ctx.ansible.run("verify", str(playbook_path()), extravars=extravars, on_event=capture.handler())
    if not capture.login:
        return [res.Finding(f"slurm partition {p.name}", ALL_REDUCE_CHECK, "fail",
                            f"no running login pod ({LOGIN_SELECTOR} in namespace {NAMESPACE})")
                for p in partitions]
    results = capture.results or {}
    return [judge_all_reduce(p, results.get(p.name, {"rc": None}), ctx.cluster.spec.verify)
            for p in partitions]


def run_slurm_smoke(ctx: StageContext) -> None:
    """The Slurm part of verify (raises :class:`DeepctlError` naming partition and node)."""
    from deepctl.addons.playbook import require_gpu_facts, saved_gpus

    layout = slurm_layout(ctx.cluster, saved_gpus(ctx.ws))
    require_gpu_facts(ctx.ws, layout.missing_facts)
    partitions = layout.gpu_partitions
    if not partitions:
        ctx.record.log("verify: Slurm has no GPU partition; no srun smoke job")
        return
    capture = _Capture()
    extravars = {"deepctl_slurm_namespace": NAMESPACE, "deepctl_slurm_login_selector": LOGIN_SELECTOR,
                 "deepctl_slurm_smoke": smoke_items(partitions),
                 "deepctl_slurm_timeout": EXEC_TIMEOUT_S}
    ctx.ansible.run("verify", str(playbook_path()), extravars=extravars, on_event=capture.handler())
    hint = (f"kubectl -n {NAMESPACE} get pods -o wide; then run "
            f"`{deepctl_command('deploy', ctx.ws.spec.path, '--only', 'verify')}`")
    if not capture.login:
        raise DeepctlError(f"Slurm: no running login pod ({LOGIN_SELECTOR} in namespace "
                           f"{NAMESPACE}), so no srun smoke job could run", hint=hint)
    nodes = kube_nodes(capture.pods)
    results = capture.results or {}
    outcomes = [smoke_outcome(p.name, p.gpus, results.get(p.name, {"rc": None}), nodes)
                for p in partitions]
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise DeepctlError("\n  ".join([
            "Slurm smoke test failed on partition " + ", ".join(o.partition for o in failed) + ":",
            *(describe_failure(o) for o in failed)]), hint=hint)
    ran = ", ".join(f"{o.partition} ({o.slurm_node or '?'})" for o in outcomes)
    ctx.record.log(f"verify: srun smoke job completed on partition {ran}")
