"""`deepctl status --json` is the same document, key for key, as before the reader was made
fast (issue 24): a varied cluster on the API stand-in (tests/fixtures/k8s_api_standin), read in
pages of 7 so that every list spans pages, against the document the earlier reader (the
kubernetes client's list methods, one json.loads per page) produced for it, recorded in
tests/fixtures/status/document.json. And the fast reader's parts: pages decoded to only the
fields status reads give the same rows as whole pages; no generated API classes or SSH
library are imported; the cyclic garbage collector is paused while status reads and judges.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deepctl.cli.application import app
from deepctl.preflight.model import Gpu, HostFacts
from deepctl.state import StateDir
from deepctl.status import collect
from deepctl.status.nodes import gpu_pod, node_fields
from deepctl.status.pages import NotAList, decode_page
from tests.fixtures import k8s_objects as k
from tests.fixtures.k8s_api_standin import KubeApiStandin

TOKEN = "standin-token-document"
GOLDEN = Path(__file__).parents[1] / "fixtures" / "status" / "document.json"
WORKERS = 24
MIG = "nvidia.com/mig-1g.10gb"


def spec_yaml() -> str:
    hosts = "\n".join(f"    - {{name: gpu{i:02d}, address: 10.1.0.{i}, roles: [worker], gpu: true}}"
                      for i in range(1, WORKERS + 1))
    return k.SPEC_YAML.replace(
        "    - {name: gpu1, address: 127.0.1.2, roles: [worker], gpu: true}\n"
        "    - {name: gpu2, address: 127.0.1.3, roles: [worker], gpu: true}\n",
        hosts + "\n    - {name: cpu01, address: 10.1.1.1, roles: [worker]}\n")


def objects() -> list[dict[str, Any]]:
    """The lab's addons; cp1; 23 of the 24 GPU workers (gpu24 missing) with outliers of every
    kind; a CPU worker; a node not in the spec; GPU pods in every shape."""
    out = [o for o in k.healthy_gpu_cluster() if o["kind"] not in ("Node", "Pod")]
    out.append(k.node("cp1", "127.0.1.1", control_plane=True))
    for i in range(1, WORKERS):
        name = f"gpu{i:02d}"
        node = k.node(name, f"10.1.0.{i}", gpus=8, ready=i != 3,
                      allocatable=0 if i == 4 else 6 if i == 5 else None,
                      product="NVIDIA-H200" if i == 6 else k.H100)
        node["status"]["images"] = [{"names": [f"registry.example/i{j}:1"], "sizeBytes": j}
                                    for j in range(5)]
        node["metadata"]["managedFields"] = [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]
        if i == 7:  # cordoned, with a taint that has a value
            node["spec"] |= {"unschedulable": True, "taints": [
                {"key": "maintenance", "value": "disk", "effect": "NoExecute"},
                {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]}
        if i == 8:  # MIG, mixed strategy: GPUs offered as MIG devices
            node["metadata"]["labels"] |= {"nvidia.com/mig.strategy": "mixed",
                                           "nvidia.com/mig.config": "all-1g.10gb"}
            node["status"]["allocatable"] = {**node["status"]["allocatable"],
                                             "nvidia.com/gpu": "0", MIG: "56"}
        if i == 9:
            node["metadata"]["labels"]["node-role.kubernetes.io/gpu"] = ""
        out.append(node)
        out += [k.pod(f"train-{i}", "default", name, gpus=1 + i % 3),
                k.pod(f"log-{i}", "logging", name)]
    limits_only = k.pod("limits-only", "default", "gpu10")
    limits_only["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "2"}}
    two = k.pod("two-containers", "default", "gpu11", gpus=1)
    two["spec"]["containers"].append({"name": "side", "resources": {"requests": {"nvidia.com/gpu": "3"}}})
    pending = k.pod("waiting", "default", "gpu12", gpus=4, phase="Pending")
    out += [limits_only, two, pending, k.node("cpu01", "10.1.1.1"), k.node("stray1", "10.9.9.9", gpus=2)]
    return out


def lab(root: Path) -> tuple[Path, KubeApiStandin]:
    spec = root / "cluster.yaml"
    spec.write_text(spec_yaml())
    state = StateDir(root / ".deepctl" / "lab")
    state.facts_dir.mkdir(parents=True)
    for i in (1, 2, 5, 8):  # preflight facts for some GPU hosts; the others "unknown"
        rows = [Gpu(g, "NVIDIA H100 80GB HBM3", f"GPU-{i}-{g}", 81559, "570.133.20", "Disabled")
                for g in range(8)]
        (state.facts_dir / f"gpu{i:02d}.json").write_text(
            json.dumps(HostFacts(hostname=f"gpu{i:02d}", gpus=rows).to_json()))
    run = state.runs_dir / "20261127T100000Z-deploy-bbbb"
    run.mkdir(parents=True)
    (run / "state.json").write_text(json.dumps({
        "version": 1, "id": run.name, "command": "deploy", "started_at": "2026-11-27T10:00:00Z",
        "finished_at": "2026-11-27T10:20:00Z", "duration_s": 1200.0, "result": "succeeded",
        "failed_stage": None}))
    api = KubeApiStandin(token=TOKEN).add(*objects()).start()
    api.write_kubeconfig(state.kubeconfig)
    return spec, api


def document(spec: Path, api: KubeApiStandin) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["status", str(spec), "--json"])
    assert result.exit_code == 1, result.output  # NotReady, missing, too few GPUs
    doc = json.loads(result.stdout)
    root = str(spec.parent)
    text = json.dumps(doc).replace(api.url, "http://API").replace(root, "ROOT")
    return dict(json.loads(text))


def test_the_json_document_is_the_one_the_earlier_reader_gave(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collect, "PAGE", 7)  # every list spans several pages
    spec, api = lab(tmp_path)
    try:
        doc = document(spec, api)
    finally:
        api.stop()
    node_pages = [q for p, q in zip(api.requests, api.queries, strict=True) if p == "/api/v1/nodes"]
    assert len(node_pages) == 4 and "continue=7" in node_pages[1]
    assert doc == json.loads(GOLDEN.read_text())


def _page(kind: str, items: list[dict[str, Any]], token: str | None = None) -> bytes:
    meta = {"resourceVersion": "1", **({"continue": token} if token else {})}
    return json.dumps({"kind": f"{kind}List", "apiVersion": "v1", "metadata": meta,
                       "items": [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
                                 for o in items]}).encode()


def test_pages_decoded_to_the_fields_used_give_what_whole_pages_give() -> None:
    nodes = [o for o in objects() if o["kind"] == "Node"]
    pods = [o for o in objects() if o["kind"] == "Pod"]
    for kind, shape, keep, items in (("Node", "node", node_fields, nodes), ("Pod", "pod", gpu_pod, pods)):
        data = _page(kind, items, token="abc")
        whole = decode_page(data)
        assert whole.items == [{**o, "kind": kind} for o in json.loads(data)["items"]]
        assert whole.continue_token == "abc"
        trimmed = decode_page(data, shape)  # type: ignore[arg-type]
        assert trimmed.continue_token == "abc"
        assert [keep(o) for o in trimmed.items] == [keep(o) for o in whole.items]
    node = decode_page(_page("Node", nodes[:1]), "node").items[0]
    assert "images" not in node["status"] and "managedFields" not in node["metadata"]
    assert set(node["status"]["nodeInfo"]) == {"kubeletVersion"}
    assert decode_page(b'{"kind":"PodList","items":[]}', "pod").continue_token is None
    for bad in (b"<html>", b'{"kind":"Status"}', b'{"items":{}}', b'{"items":[{"metadata":3}]}'):
        with pytest.raises(NotAList):
            decode_page(bad, "node")


def test_status_imports_no_generated_api_class_and_no_ssh_library(tmp_path: Path) -> None:
    spec, api = lab(tmp_path)
    probe = (
        "import sys\n"
        "from deepctl.entry import main\n"
        f"sys.argv = ['deepctl', 'status', {str(spec)!r}, '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('kubernetes.client.api.', "
        "'kubernetes.client.models.', 'paramiko')))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    try:
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                check=False, timeout=120)
    finally:
        api.stop()
    assert '"nodesTotal": 26' in result.stdout, result.stderr
    assert "HEAVY []" in result.stderr, result.stderr


def test_status_pauses_the_cyclic_garbage_collector_while_it_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deepctl.cli.commands import status as command

    seen: list[bool] = []
    real = command.status_report

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(command, "status_report", spy)
    spec, api = lab(tmp_path)
    try:
        assert gc.isenabled()
        result = CliRunner().invoke(app, ["status", str(spec)])
    finally:
        api.stop()
    assert result.exit_code == 1, result.output
    assert seen == [False]
    assert gc.isenabled()  # and back on afterwards
