"""Stage ``verify``: the cluster does what the spec says, asked on the first control plane.

1. every host of the spec is a Ready node (``templates/playbooks/verify.yml``);
2. with the GPU addon on: every GPU node offers the GPUs preflight saw, and a CUDA smoke Job
   (``nvidia-smi`` with one GPU) completes on each (``templates/playbooks/gpu-smoke.yml``).
   The checks themselves are pure (:mod:`deepctl.stages.verify_gpu`); a failure names the node;
3. with Slurm on: an ``srun`` smoke job on each GPU partition, and at level full the
   multi-node all-reduce through ``srun`` on each GPU partition of 2 or more nodes
   (:mod:`deepctl.stages.verify_slurm`);
4. at level standard or full (``deepctl verify --level``, or ``spec.verify.level`` in a
   deploy): DCGM diagnostics and NCCL all-reduce Jobs, judged against the expected figures
   (:mod:`deepctl.stages.verify_jobs`); at level full, when the all-nodes all-reduce is below
   ``spec.verify.expect["multi-node"]``, halving rounds name the slow nodes
   (:mod:`deepctl.stages.verify_blame`). The findings are kept in the run's directory
   (``verify-results.json``); a failed check names the node and exits 1.
Every ``kubectl`` runs on the host, from Kubespray's ``bin_dir`` with the admin kubeconfig.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deepctl.ansible.runner import ControllerFile
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.verify import LEVELS, VerifyLevel
from deepctl.errors import DeepctlError
from deepctl.fsutil import atomic_write, atomic_write_json, ensure_private_dir
from deepctl.names import summary
from deepctl.shellwords import deepctl_command
from deepctl.stages import verify_blame, verify_gpu, verify_jobs, verify_slurm
from deepctl.stages.context import PlanContext, StageContext
from deepctl.stages.stage import Stage, first_control_plane, named
from deepctl.status.model import ApiObject
from deepctl.templates import playbook_path
from deepctl.verify import results as res

TASK = "List nodes"
SMOKE_JOBS_TASK = "Wait for the smoke Jobs to finish"
SMOKE_PODS_TASK = "Smoke pods"
SMOKE_LOGS_TASK = "Smoke Job logs"

Event = dict[str, Any]


def ready_nodes(kubectl_json: str) -> dict[str, bool]:
    """``kubectl get nodes -o json`` -> {node name: Ready?} (pure)."""
    out: dict[str, bool] = {}
    for item in verify_gpu.items(kubectl_json):
        name = str(item.get("metadata", {}).get("name", ""))
        conditions = item.get("status", {}).get("conditions", [])
        out[name] = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in conditions)
    return out


def not_ready(expected: list[str], nodes: dict[str, bool]) -> list[str]:
    return [name for name in expected if not nodes.get(name, False)]


def _stdout_of(task: str, sink: dict[str, str]) -> Callable[[Event], None]:
    """An event handler keeping the last stdout of ``task`` (ok or failed) in ``sink[task]``."""
    def capture(event: Event) -> None:
        data = event.get("event_data") or {}
        if event.get("event") in ("runner_on_ok", "runner_on_failed") and data.get("task") == task:
            sink[task] = str((data.get("res") or {}).get("stdout", ""))
    return capture


def _smoke_capture(sink: dict[str, str], logs: dict[str, str]) -> Callable[[Event], None]:
    keep_jobs, keep_pods = _stdout_of(SMOKE_JOBS_TASK, sink), _stdout_of(SMOKE_PODS_TASK, sink)

    def capture(event: Event) -> None:
        keep_jobs(event)
        keep_pods(event)
        data = event.get("event_data") or {}
        if event.get("event") == "runner_item_on_ok" and data.get("task") == SMOKE_LOGS_TASK:
            res = data.get("res") or {}
            node = str((res.get("item") or {}).get("node", ""))
            logs[node] = str(res.get("stdout") or res.get("stderr") or "")
    return capture


class VerifyFailed(DeepctlError):
    """A verify check failed; ``--json`` carries every finding, not only the failed."""

    def __init__(self, findings: list[res.Finding], message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.findings = list(findings)

    def details(self) -> dict[str, Any]:
        return {"findings": [f.to_json() for f in self.findings]}


class VerifyStage:
    """The checks of the ``verify`` stage; ``only`` restricts them to some hosts (add-node)."""

    name = "verify"

    def __init__(self, only: list[str] | None = None, gpus: bool = True,
                 level: VerifyLevel = "quick", drain: bool = False) -> None:
        self.only = only
        self.gpus = gpus
        self.level = level
        self.drain = drain
        self.findings: list[res.Finding] = []

    def _hosts(self, hosts: list[str]) -> list[str]:
        return [h for h in hosts if self.only is None or h in self.only]

    def run(self, ctx: StageContext) -> None:
        sink: dict[str, str] = {}
        ctx.ansible.run(self.name, str(playbook_path("verify.yml")), on_event=_stdout_of(TASK, sink))
        text = sink.get(TASK, "")
        nodes = ready_nodes(text)
        missing = not_ready(self._hosts([h.name for h in ctx.cluster.spec.hosts]), nodes)
        if missing:
            raise DeepctlError(
                f"not Ready: {summary(missing)} ({len(nodes)} node(s) reported by the API)",
                hint="look at the node with `kubectl describe node NAME`, then run "
                f"`{deepctl_command('deploy', ctx.ws.spec.path, '--only', 'verify')}`",
            )
        ctx.record.log(f"verify: {len(nodes)} node(s) Ready")
        gpu_hosts = self._hosts([h.name for h in ctx.cluster.gpu_hosts])
        if self.gpus and ctx.cluster.spec.addons.gpu.enabled and gpu_hosts:
            by_name = {str(n.get("metadata", {}).get("name")): n for n in verify_gpu.items(text)
                       if self.only is None or n.get("metadata", {}).get("name") in self.only}
            self._check_gpus(ctx, by_name)
            self._smoke(ctx, by_name)
            checks = verify_jobs.run_checks(ctx, self.level, by_name, self.only, self.drain)
            if self.level == "full":
                checks += verify_blame.blame_if_slow(ctx, checks, by_name, self.drain)
            self.findings += checks
        if self.gpus and ctx.cluster.spec.addons.slurm.enabled:
            verify_slurm.run_slurm_smoke(ctx)
            if self.level == "full":
                self.findings += verify_slurm.run_slurm_all_reduce(ctx)
        self._conclude(ctx)

    def _conclude(self, ctx: StageContext) -> None:
        """Keep the findings in the run's directory; fail naming the failed checks."""
        atomic_write_json(ctx.record.paths.verify_results,
                          {"level": self.level, "findings": [f.to_json() for f in self.findings]})
        for line in res.lines(self.findings):
            ctx.record.log(f"verify: {line}")
            ctx.display.message(f"verify: {line}")
        failed = res.failed(self.findings)
        if failed:
            raise VerifyFailed(self.findings,
                "verify found problems:\n  " + "\n  ".join(res.lines(failed)),
                hint=f"the findings are in {ctx.record.paths.verify_results}; after a fix, run "
                f"`{deepctl_command('verify', ctx.ws.spec.path, '--level', self.level)}`")

    def _check_gpus(self, ctx: StageContext, nodes: dict[str, ApiObject]) -> None:
        from deepctl.preflight.saved import expected_gpus  # preflight's own gpu_count per facts file

        hosts = self._hosts([h.name for h in ctx.cluster.gpu_hosts])
        seen = expected_gpus(ctx.ws.state, hosts)
        for name in hosts:
            if name not in seen:
                note = (f"verify: no preflight facts for {name}: only checking that it offers a "
                        f"GPU (run `{deepctl_command('preflight', ctx.ws.spec.path)}` to record its GPUs)")
                ctx.record.log(note)
                ctx.display.message(note)
        problems = verify_gpu.gpu_problems(verify_gpu.expectations(ctx.cluster, seen), nodes)
        if problems:
            raise DeepctlError(
                f"GPU check failed on {', '.join(problems)}:\n  "
                + "\n  ".join(f"{node}: {text}" for node, text in problems.items()),
                hint="see the GPU Operator's pods on that node (`kubectl -n gpu-operator get pods "
                "-o wide`) and `nvidia-smi` on the host; then run "
                f"`{deepctl_command('deploy', ctx.ws.spec.path, '--only', 'verify')}`",
            )
        ctx.record.log(f"verify: GPUs allocatable as expected on {', '.join(hosts)}")

    def _smoke(self, ctx: StageContext, nodes: dict[str, ApiObject]) -> None:
        jobs = verify_gpu.smoke_jobs(ctx.cluster, nodes)
        if not jobs:
            return
        work = ensure_private_dir(ctx.record.paths.verify_dir)
        manifest = work / "gpu-smoke.yaml"
        atomic_write(manifest, verify_gpu.smoke_manifest(jobs), mode=0o600)
        names = [j["metadata"]["labels"][verify_gpu.NODE_LABEL] for j in jobs]
        extravars = {
            "deepctl_smoke_manifest": ControllerFile(manifest),
            "deepctl_smoke_namespace": verify_gpu.SMOKE_NAMESPACE,
            "deepctl_smoke_selector": verify_gpu.SMOKE_SELECTOR,
            "deepctl_smoke_jobs": [{"node": n, "job": j["metadata"]["name"]}
                                   for n, j in zip(names, jobs, strict=True)],
            "deepctl_smoke_retries": verify_gpu.SMOKE_TIMEOUT_S // verify_gpu.SMOKE_POLL_S,
            "deepctl_smoke_delay": verify_gpu.SMOKE_POLL_S,
            "deepctl_smoke_log_lines": verify_gpu.LOG_TAIL_LINES,
        }
        sink: dict[str, str] = {}
        logs: dict[str, str] = {}
        ctx.ansible.run(self.name, str(playbook_path("gpu-smoke.yml")), extravars=extravars,
                        on_event=_smoke_capture(sink, logs))
        outcomes = verify_gpu.smoke_outcomes(names, sink.get(SMOKE_JOBS_TASK, ""),
                                             sink.get(SMOKE_PODS_TASK, ""), logs)
        failed = [o for o in outcomes if o.status != "succeeded"]
        if failed:
            raise DeepctlError(
                "\n  ".join(["GPU smoke test failed on " + summary([o.node for o in failed]) + ":",
                             *(verify_gpu.describe_failure(o) for o in failed)]),
                hint=f"kubectl -n {verify_gpu.SMOKE_NAMESPACE} describe job "
                f"{verify_gpu.smoke_job_name(failed[0].node)}; then run "
                f"`{deepctl_command('deploy', ctx.ws.spec.path, '--only', 'verify')}`",
            )
        ctx.record.log(f"verify: GPU smoke Job completed on {', '.join(names)}")
        self.findings += [res.Finding(n, "cuda-smoke", "pass", "nvidia-smi ran in a pod with a GPU")
                          for n in names]


def _describe(cluster: Cluster) -> str:
    gpus = cluster.spec.addons.gpu.enabled and cluster.gpu_hosts
    on = summary([h.name for h in cluster.gpu_hosts])  # 5,000 hosts: gpu[0001-5000]
    return "all nodes Ready" + (
        "; nvidia.com/gpu allocatable as preflight saw; CUDA smoke Job (nvidia-smi, "
        f"{verify_gpu.smoke_image(cluster)}) on {on}" if gpus else "") + (
        "; srun smoke job on each Slurm GPU partition" if cluster.spec.addons.slurm.enabled
        else "") + _level_text(cluster)


def _level_text(cluster: Cluster) -> str:
    level = cluster.spec.verify.level
    if level == "quick" or not (cluster.spec.addons.gpu.enabled and cluster.gpu_hosts):
        return ""
    dcgm = 2 if level == "standard" else 3
    return (f"; level {level}: DCGM diagnostics level {dcgm} and single-node NCCL all-reduce"
            + (", multi-node all-reduce" if level == "full" else ""))


def _always_checks(_: PlanContext) -> str:
    return "always checks"


def level_of(ctx: StageContext) -> VerifyLevel:
    """``deepctl verify --level``, else ``spec.verify.level`` (a deploy)."""
    wanted = ctx.params.get("level") or ctx.cluster.spec.verify.level
    return next((known for known in LEVELS if known == wanted), "quick")


def _run(ctx: StageContext) -> None:
    nodes = ctx.params.get("nodes")
    VerifyStage(list(nodes) if nodes else None, level=level_of(ctx),
                drain=bool(ctx.params.get("drain"))).run(ctx)


VERIFY = Stage(
    "verify", "Verify the cluster", _describe, run=_run,
    after=("kubeconfig", "gpu"), hosts=first_control_plane, rerun=_always_checks,
    checks_only=True,
)


def verify_new_node(names: tuple[str, ...]) -> Stage:
    """add-node's ``verify``: the new node(s) are Ready nodes of the cluster (their GPUs are
    ``gpu-ready``'s; ``deploy --only verify`` runs the CUDA smoke Job on every GPU node)."""
    name = named(names)
    return Stage(
        "verify", f"Verify {name}",
        lambda c: f"{name} {'is a Ready node' if len(names) == 1 else 'are Ready nodes'}, "
        "asked on the API",
        run=lambda ctx: VerifyStage(list(names), gpus=False).run(ctx), hosts=first_control_plane,
        rerun=_always_checks,
        checks_only=True)
