"""Preflight with ``spec.offline``: every host reaches the files mirror and the registry.

From each host, as part of the facts script: an HTTP ``HEAD`` of one file the artifact list
always holds (``kubeadm`` for the host's architecture, at its files_repo path) and a ``GET``
of the registry's ``/v2/`` (200, or 401 for a registry that wants a login, both mean it
answers). The probe is Python on the host (Ansible needs python3 there anyway); the mirror's
CA, when the spec names one, travels in the script (a certificate is not a secret).
Pure: :func:`probe_script` builds the shell text, :func:`parse_probes` reads it back,
:func:`check_offline` judges it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from deepctl.clusterspec.models import Cluster, Host
from deepctl.clusterspec.offline import MAX_CA_BYTES
from deepctl.kubevars.offline import mirror_path
from deepctl.preflight.model import Finding, HostFacts, error, ok
from deepctl.user_input import InputError, read_input

GROUP = "network"
KUBEADM_URL = "https://dl.k8s.io/release/v{version}/bin/linux/@ARCH@/kubeadm"

_PROBE_PY = r"""
import ssl, sys, urllib.error, urllib.request
url, method, ca = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca or None)
try:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=8, context=ctx) as r:
        print("status", r.status)
except urllib.error.HTTPError as e:
    print("status", e.code)
except Exception as e:
    print("error", type(e).__name__, str(getattr(e, "reason", e))[:300].replace("\n", " "))
"""

_BODY = r"""
case "$(uname -m)" in x86_64) A=amd64;; aarch64|arm64) A=arm64;; *) A="$(uname -m)";; esac
CA=""
if [ -n "$OFFLINE_CA_PEM" ]; then
  CA="$(mktemp)" && printf '%s\n' "$OFFLINE_CA_PEM" > "$CA"
fi
probe() {
  printf '@url %s\n' "$1"
  if command -v python3 >/dev/null 2>&1; then t 12 python3 -c "$OFFLINE_PY" "$1" "$2" "$CA" 2>&1
  else echo "absent"; fi
}
sec offline_files; probe "$(printf '%s' "$OFFLINE_FILE" | sed "s/@ARCH@/$A/")" HEAD
sec offline_registry; probe "$OFFLINE_REGISTRY" GET
[ -n "$CA" ] && rm -f "$CA"
"""


def probe_file_url(cluster: Cluster) -> str:
    """The mirror URL of this spec's kubeadm (``@ARCH@``: the host's architecture)."""
    offline = cluster.spec.offline
    assert offline is not None
    upstream = KUBEADM_URL.format(version=cluster.spec.kubernetes.version)
    return f"{offline.files}/{mirror_path(upstream)}"


def registry_url(cluster: Cluster) -> str:
    offline = cluster.spec.offline
    assert offline is not None
    scheme = "http" if offline.insecure_registry else "https"
    return f"{scheme}://{offline.registry.split('/', 1)[0]}/v2/"


def probe_script(cluster: Cluster, ca_pem: str = "") -> str:
    """Shell text (for the facts script, before its end) probing the mirrors; "" online."""
    if cluster.spec.offline is None:
        return ""
    head = (
        f"OFFLINE_FILE={shlex.quote(probe_file_url(cluster))}\n"
        f"OFFLINE_REGISTRY={shlex.quote(registry_url(cluster))}\n"
        f"OFFLINE_CA_PEM={shlex.quote(ca_pem.strip())}\n"
        f"OFFLINE_PY={shlex.quote(_PROBE_PY)}\n"
    )
    return head + _BODY


def read_ca(cluster: Cluster) -> str:
    """The spec's CA bundle text ("" without one; unreadable: "" and the probe says so)."""
    offline = cluster.spec.offline
    if offline is None or offline.ca_file is None:
        return ""
    try:
        data = read_input(Path(offline.ca_file), MAX_CA_BYTES, "CA bundle")
    except InputError:
        return ""
    return data.decode("ascii", errors="replace")


def _probe(text: str) -> dict[str, Any]:
    url, result = "", ""
    for line in text.splitlines():
        if line.startswith("@url "):
            url = line[5:].strip()
        elif line.strip():
            result = line.strip()
    return {"url": url, "result": result}


def parse_probes(sections: dict[str, str]) -> dict[str, Any]:
    """``{"files": {"url", "result"}, "registry": {...}}`` from the facts script sections."""
    return {name: _probe(sections[f"offline_{name}"])
            for name in ("files", "registry") if f"offline_{name}" in sections}


def _status(result: str) -> int | None:
    parts = result.split()
    return int(parts[1]) if len(parts) == 2 and parts[0] == "status" and parts[1].isdigit() else None


def _unreachable_hint(result: str, what: str, ca_file: Path | None) -> str:
    if "SSL" in result or "CERTIFICATE" in result.upper():
        if ca_file is not None:
            return (f"the CA in spec.offline.caFile ({ca_file}) did not verify the {what}'s "
                    "certificate: set caFile to the CA bundle that signed that certificate "
                    "(with any intermediate CAs), or give the mirror a certificate this CA signed")
        return (f"the host does not trust the {what}'s certificate: set spec.offline.caFile to "
                "the CA bundle that signed it")
    if result == "absent":
        return "install python3 on the host (Ansible needs it too)"
    return (f"check DNS, routes and firewalls from this host to the {what}, and that it is "
            "running (docs/airgap.md)")


def check_files(host: Host, probe: dict[str, Any], ca_file: Path | None = None) -> Finding:
    url, result = probe.get("url", ""), probe.get("result", "")
    status = _status(result)
    if status == 200:
        return ok(host.name, GROUP, "offline.files", f"files mirror serves {url}")
    if status is not None:
        return error(host.name, GROUP, "offline.files",
                     f"files mirror answered HTTP {status} for {url}",
                     "the mirror lacks this spec's files: fill it with deepctl's artifacts pull "
                     "for this spec and serve its files/ directory at spec.offline.files "
                     "(docs/airgap.md, steps 2 and 5)")
    return error(host.name, GROUP, "offline.files", f"cannot reach the files mirror at {url}: {result}",
                 _unreachable_hint(result, "files mirror", ca_file))


def check_registry(host: Host, probe: dict[str, Any], ca_file: Path | None = None) -> Finding:
    url, result = probe.get("url", ""), probe.get("result", "")
    status = _status(result)
    if status in (200, 401):
        return ok(host.name, GROUP, "offline.registry", f"registry answers at {url}")
    if status is not None:
        return error(host.name, GROUP, "offline.registry",
                     f"registry answered HTTP {status} at {url}, not a registry API",
                     "point spec.offline.registry at a Docker/OCI registry (host:port)")
    hint = _unreachable_hint(result, "registry", ca_file)
    not_tls = "WRONG_VERSION" in result or ("SSL" in result and "CERTIFICATE" not in result.upper())
    if "http://" not in url and not_tls:
        hint = ("the registry does not speak HTTPS: set spec.offline.insecureRegistry: true, "
                "or give it a certificate")
    return error(host.name, GROUP, "offline.registry", f"cannot reach the registry at {url}: {result}",
                 hint)


def check_offline(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    """The mirrors, as this host sees them (nothing without ``spec.offline``)."""
    offline = cluster.spec.offline
    if offline is None:
        return []
    probes = facts.offline
    return [
        check_files(host, probes.get("files", {"result": "not probed"}), offline.ca_file),
        check_registry(host, probes.get("registry", {"result": "not probed"}), offline.ca_file),
    ]
