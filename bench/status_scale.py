"""Benchmark 10: `deepctl status` (human and `--json`) at 10, 1,000 and 5,000 nodes.

A stand-in Kubernetes API server written for this benchmark (standard library only, in a
thread of this process, on 127.0.0.1) serves N nodes shaped like real ones (labels, GPU
capacity, conditions, addresses, ~50 images: ~3 KB each) and 8 running pods per node (one
of them requesting GPUs), answering `limit`/`continue` as the real API does. `deepctl status`
runs as a user types it, off a terminal; its wall time and peak RSS (`wait4`) are the median
and the largest of `--repeat` runs. Targets at 5,000 nodes: <= 5 s and <= 200 MB, both
views; the human view <= 60 lines.
Usage: python bench/status_scale.py [--sizes 10,1000,5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from _common import DEEPCTL, run_measured, table, write_results

TARGET_S, TARGET_MIB, TARGET_LINES = 5.0, 200, 60
TOKEN = "bench-token"
GPU = "nvidia.com/gpu"


def node(i: int) -> dict[str, Any]:
    name = "cp1" if i == 0 else f"gpu{i:04d}"
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64"}
    capacity = {"cpu": "64", "memory": "528012340Ki", "pods": "110"}
    if i:
        labels |= {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.product":
                   "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.count": "8",
                   "nvidia.com/mig.config": "all-disabled", "nvidia.com/mig.strategy": "single"}
        capacity[GPU] = "8"
    else:
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {
        "metadata": {"name": name, "uid": f"uid-{i}", "labels": labels,
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                     "volumes.kubernetes.io/controller-managed-attach-detach":
                                     "true"}},
        "spec": {"podCIDR": f"10.64.{i % 256}.0/24"},
        "status": {
            "capacity": capacity, "allocatable": capacity,
            "conditions": [{"type": t, "status": "False"} for t in
                           ("MemoryPressure", "DiskPressure", "PIDPressure")]
            + [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "addresses": [{"type": "InternalIP", "address": f"10.1.{i // 250}.{i % 250 + 1}"},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.35.4", "containerRuntimeVersion": "containerd://2.1.4",
                         "osImage": "Ubuntu 24.04.2 LTS", "kernelVersion": "6.8.0-60-generic"},
            "images": [{"names": [f"registry.k8s.io/image-{j}@sha256:{j:064d}",
                                  f"registry.k8s.io/image-{j}:v1.{j}"], "sizeBytes": 1000000 + j}
                       for j in range(20)],
        },
    }


def pod(i: int, j: int) -> dict[str, Any]:
    name = "cp1" if i == 0 else f"gpu{i:04d}"
    resources: dict[str, Any] = {"requests": {"cpu": "100m", "memory": "128Mi"}}
    if i and j == 0:
        resources = {"requests": {"cpu": "4", GPU: "2"}, "limits": {GPU: "2"}}
    return {"metadata": {"name": f"p{i}-{j}", "namespace": "default", "uid": f"u{i}-{j}",
                         "labels": {"app": f"app{j}"}},
            "spec": {"nodeName": name, "containers": [
                {"name": "main", "image": f"registry.example/app{j}:1.0", "resources": resources,
                 "command": ["/bin/app", "--serve"], "env": [{"name": "A", "value": "1"}]}]},
            "status": {"phase": "Running", "podIP": f"10.64.{i % 256}.{j + 2}"}}


class Api:
    """The stand-in: items pre-serialised per kind, pages joined on request."""

    def __init__(self, nodes: int) -> None:
        self.items = {
            "/api/v1/nodes": ("NodeList", [json.dumps(node(i)) for i in range(nodes)]),
            "/api/v1/pods": ("PodList", [json.dumps(pod(i, j)) for i in range(nodes)
                                         for j in range(8)]),
        }
        self.requests = 0

    def page(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        self.requests += 1
        kind, items = self.items.get(path, ("List", []))
        if path.startswith("/apis/nvidia.com/"):
            return 404, b'{"kind":"Status","code":404,"reason":"NotFound"}'
        start = int(query.get("continue", ["0"])[0])
        limit = int(query.get("limit", ["0"])[0]) or len(items)
        chunk, end = items[start:start + limit], start + limit
        meta = {"resourceVersion": "1"} | ({"continue": str(end)} if end < len(items) else {})
        body = (f'{{"kind":"{kind}","apiVersion":"v1","metadata":{json.dumps(meta)},'
                f'"items":[{",".join(chunk)}]}}')
        return 200, body.encode()

    def serve(self) -> ThreadingHTTPServer:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                code, data = api.page(url.path, parse_qs(url.query))
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def spec_text(nodes: int) -> str:
    hosts = ["    - {name: cp1, address: 10.1.0.1, roles: [control-plane, etcd]}"]
    hosts += [f"    - {{name: gpu{i:04d}, address: 10.1.{i // 250}.{i % 250 + 1}, "
              "roles: [worker], gpu: true}" for i in range(1, nodes)]
    return ("apiVersion: deepctl/v1alpha1\nkind: Cluster\nmetadata: {name: bench}\nspec:\n"
            "  kubernetes: {podSubnet: 10.64.0.0/10, serviceSubnet: 10.32.0.0/16}\n"
            "  hosts:\n" + "\n".join(hosts) + "\n")


def kubeconfig(path: Path, url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(json.dumps({  # JSON is YAML
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x"}))
    path.chmod(0o600)


def measure(argv: list[str], repeat: int) -> dict[str, Any]:
    times, rss = [], []
    for _ in range(repeat):
        elapsed, peak, rc = run_measured(argv)
        if rc not in (0, 1):  # 1: degraded (the stand-in runs no addon workloads)
            raise SystemExit(f"benchmark command failed (exit {rc}): {' '.join(argv)}")
        times.append(elapsed)
        rss.append(peak)
    return {"median_s": statistics.median(times), "min_s": min(times), "peak_rss_mib": max(rss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            api = Api(size)
            server = api.serve()
            spec, state = Path(tmp) / f"s{size}.yaml", Path(tmp) / f"state{size}"
            spec.write_text(spec_text(size))
            kubeconfig(state / "inventory" / "artifacts" / "admin.conf",
                       f"http://127.0.0.1:{server.server_address[1]}")
            base = [DEEPCTL, "status", str(spec), "--state-dir", str(state)]
            screen = subprocess.run(base, capture_output=True, text=True, check=False).stdout
            results[size] = {"human": measure(base, args.repeat),
                             "json": measure([*base, "--json"], args.repeat),
                             "human_lines": len(screen.splitlines()),
                             "widest": max((len(line) for line in screen.splitlines()), default=0)}
            server.shutdown()
            server.server_close()
    rows, base_s = [], {v: results[sizes[0]][v]["median_s"] for v in ("human", "json")}
    for size, r in results.items():
        rows.append([str(size), *(f"{r[v]['median_s']:.2f} s ({r[v]['median_s'] / base_s[v]:.2f}x)"
                                  for v in ("human", "json")),
                     f"{max(r['human']['peak_rss_mib'], r['json']['peak_rss_mib'])} MiB",
                     str(r["human_lines"]), str(r["widest"])])
    print(table(rows, ["nodes", "human (vs first)", "--json (vs first)", "peak RSS",
                       "human lines", "widest line"]))
    last = results[sizes[-1]]
    met = (all(last[v]["median_s"] <= TARGET_S and last[v]["peak_rss_mib"] <= TARGET_MIB
               for v in ("human", "json")) and last["human_lines"] <= TARGET_LINES)
    print(f"\n{sizes[-1]} nodes: human {last['human']['median_s']:.2f} s, --json "
          f"{last['json']['median_s']:.2f} s, {last['human_lines']} lines (target <= "
          f"{TARGET_S:.0f} s, <= {TARGET_MIB} MB, <= {TARGET_LINES} lines): "
          f"{'met' if met else 'MISSED'}; load average {os.getloadavg()[0]:.1f}\n")
    path = write_results("status_scale", {"results": {str(k): v for k, v in results.items()},
                                          "met": met, "load_average": os.getloadavg()[0]})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
