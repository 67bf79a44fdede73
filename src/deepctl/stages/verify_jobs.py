"""Verify, levels standard and full: apply the DCGM and NCCL Jobs on the first control
plane (``templates/playbooks/verify-jobs.yml``, kubectl at Kubespray's ``bin_dir``), read
their logs, judge them (:mod:`deepctl.verify.results`). The playbook removes the Jobs, pods,
Services and Secret at the end, passed or failed; the next verify removes any leftover
first (an interrupted one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from deepctl.ansible.runner import ControllerFile
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.verify import VerifyConfig, VerifyLevel
from deepctl.errors import Canceled
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.stages import verify_gpu
from deepctl.stages.context import StageContext
from deepctl.stages.verify_cleanup import clean_up_after_cancel
from deepctl.stages.verify_render import SMOKE_FILE, launcher_key, render
from deepctl.status.model import ApiObject
from deepctl.status.nodes import node_gpus
from deepctl.templates import playbook_path
from deepctl.verify import figures
from deepctl.verify import manifests as m
from deepctl.verify import results as res

SELECTOR = "app.kubernetes.io/name=deepctl-verify"
JOBS_TASK = "Wait for the verify Jobs to finish"
PODS_TASK = "Verify pods"
LOGS_TASK = "Verify Job logs"
POLL_S = 10
JOB_LABEL = "batch.kubernetes.io/job-name"

Event = dict[str, Any]


def node_counts(nodes: Mapping[str, ApiObject], replicas: int) -> tuple[dict[str, int],
                                                                         dict[str, str]]:
    """GPUs per node (GPU Feature Discovery's count, else allocatable / time-slicing
    replicas) and each node's GPU product label."""
    gpus: dict[str, int] = {}
    products: dict[str, str] = {}
    for name, node in nodes.items():
        offer = node_gpus(node, 0, None)
        count = offer.count_label if offer.count_label is not None else \
            offer.allocatable // max(replicas, 1)
        if count > 0:
            gpus[name] = count
        products[name] = offer.product or "unknown"
    return gpus, products


def job_items(objects: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The playbook's loop: each Job, what it checks, where, and its log's pod selector."""
    out = []
    for obj in objects:
        if obj.get("kind") != "Job":
            continue
        name = str(obj["metadata"]["name"])
        labels = obj["metadata"].get("labels", {})
        logs = f"{JOB_LABEL}={name}"
        if obj["spec"].get("completionMode") == "Indexed":
            logs += ",batch.kubernetes.io/job-completion-index=0"  # the launcher
        out.append({"name": name, "logs": logs, "check": labels.get(m.CHECK_LABEL, ""),
                    "node": labels.get(m.NODE_LABEL, ""), "group": labels.get(m.GROUP_LABEL, "")})
    return out


def _capture(sink: dict[str, str], logs: dict[str, str]) -> Callable[[Event], None]:
    def capture(event: Event) -> None:
        data = event.get("event_data") or {}
        kind, task = event.get("event"), data.get("task")
        if kind in ("runner_on_ok", "runner_on_failed") and task in (JOBS_TASK, PODS_TASK):
            sink[str(task)] = str((data.get("res") or {}).get("stdout", ""))
        if kind == "runner_item_on_ok" and task == LOGS_TASK:
            res_ = data.get("res") or {}
            logs[str((res_.get("item") or {}).get("name", ""))] = str(res_.get("stdout") or "")
    return capture


def judge(items: Sequence[Mapping[str, Any]], pods_json: str, logs: Mapping[str, str],
          gpus: Mapping[str, int], products: Mapping[str, str], groups: Mapping[str, list[str]],
          config: VerifyConfig) -> list[res.Finding]:
    """The findings from the Jobs' logs and pods (pure)."""
    pods = {str((p.get("metadata", {}).get("labels") or {}).get(JOB_LABEL, "")): p
            for p in verify_gpu.items(pods_json)}
    out = []
    for item in items:
        name, check = str(item["name"]), str(item["check"])
        log = logs.get(name, "")
        pod = pods.get(name)
        detail = verify_gpu.pod_detail(pod) if pod is not None else "no pod was created"
        if check.startswith("dcgm-"):
            out.append(res.judge_dcgm(str(item["node"]), check, log, detail))
        elif check == "nccl-node":
            node = str(item["node"])
            out.append(res.judge_nccl_node(node, products.get(node, "unknown"), gpus.get(node, 0),
                                           log, config, detail))
        elif check == "nccl-multi":
            group = str(item["group"])
            members = groups.get(group, [])
            out.append(res.judge_nccl_multi(group, members, log, detail,
                                            figures.multi_node(config, len(members))))
    return out


def groups_of(cluster: Cluster, gpus: Mapping[str, int]) -> dict[str, list[str]]:
    return {name: [h.name for h in hosts] for name, hosts in m.groups(cluster, gpus).items()}


def run_checks(ctx: StageContext, level: VerifyLevel, nodes: Mapping[str, ApiObject],
               only: Sequence[str] | None, drain: bool = False) -> list[res.Finding]:
    """Apply level ``level``'s Jobs, wait, read, judge; [] at level quick. ``drain``: cordon
    and drain the checked nodes first, uncordon them after (passed or failed)."""
    if level == "quick":
        return []
    cluster = ctx.cluster
    gpus, products = node_counts(nodes, cluster.spec.addons.gpu.time_slicing_replicas or 1)
    rendered = render(cluster, level, gpus, only, launcher_key() if level == "full" else None,
                      str(ctx.ws.spec.path), drain)
    for note in rendered.notes:
        ctx.record.log(f"verify: {note}")
        ctx.display.message(f"verify: {note}")
    texts = [t for name, t in rendered.files.items() if name.endswith(".yaml") and name != SMOKE_FILE]
    objects = [d for t in texts for d in yaml.safe_load_all(t) if d]
    items = job_items(objects)
    if not items:
        return []
    drained = sorted({str(i["node"]) for i in items if i["node"]}
                     | {h for i in items if i["group"]
                        for h in groups_of(cluster, gpus).get(str(i["group"]), [])}) if drain else []
    pods, logs = apply_and_read(ctx, texts, f"checks-{level}", drained)
    groups = groups_of(cluster, gpus)
    return judge(items, pods, logs, gpus, products, groups, cluster.spec.verify)


def apply_and_read(ctx: StageContext, texts: Sequence[str], name: str,
                   drained: Sequence[str] = ()) -> tuple[str, dict[str, str]]:
    """Apply ``texts`` (YAML documents holding Jobs) with ``verify-jobs.yml``, wait for the
    Jobs, read their pods (``kubectl get pods -o json``) and logs (``{job: log}``); the
    playbook removes them at the end. ``drained``: nodes to cordon and drain first."""
    objects = [d for t in texts for d in yaml.safe_load_all(t) if d]
    items = job_items(objects)
    work = ensure_private_dir(ctx.record.paths.verify_dir)
    manifest = work / f"{name}.yaml"
    atomic_write(manifest, "---\n".join(texts), mode=0o600)  # may hold the launcher's key
    deadline = max(int(o["spec"].get("activeDeadlineSeconds", 0)) for o in objects
                   if o.get("kind") == "Job")
    extravars = {
        "deepctl_verify_manifest": ControllerFile(manifest),
        "deepctl_verify_namespace": m.NAMESPACE,
        "deepctl_verify_selector": SELECTOR,
        "deepctl_verify_jobs": [{"name": i["name"], "logs": i["logs"]} for i in items],
        "deepctl_verify_retries": deadline // POLL_S + 6,  # the image pulls on top
        "deepctl_verify_delay": POLL_S,
        "deepctl_verify_drain": list(drained),
    }
    sink: dict[str, str] = {}
    logs: dict[str, str] = {}
    try:
        ctx.ansible.run("verify", str(playbook_path("verify-jobs.yml")), extravars=extravars,
                        on_event=_capture(sink, logs))
    except (Canceled, KeyboardInterrupt):
        clean_up_after_cancel(ctx, SELECTOR, list(drained))
        raise
    return sink.get(PODS_TASK, ""), logs
