"""Install the stand-in tools (GPU and Kubernetes CLIs) into a test host's directory."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from .hostfiles import HostLayout
from .profiles import HARNESS_DIR, HostProfile

_UUID = re.compile(r"\b(GPU|MIG)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")
_UUID_NAMESPACE = uuid.UUID("5f1d7c1e-3b7a-4f43-9c55-0d6c2f0e8a11")
EMPTY_KUBE_STATE: dict[str, dict[str, object]] = {"kubectl": {}, "helm": {}}


def _launcher(python: str, module: str, call: str) -> str:
    return (
        f"#!{python} -IB\n"
        "# deepctl test-harness stand-in; see tests/harness/README.md\n"
        "import sys\n"
        f"sys.path.insert(0, {str(HARNESS_DIR)!r})\n"
        f"from stubs.{module} import main\n"
        f"sys.exit({call})\n"
    )


def _write_executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


def _host_specific_uuids(text: str, host_name: str) -> str:
    """Give each host its own GPU/MIG UUIDs (stable per host name)."""

    def replace(match: re.Match[str]) -> str:
        new = uuid.uuid5(_UUID_NAMESPACE, f"{host_name}/{match.group(0)}")
        return f"{match.group(1)}-{new}"

    return _UUID.sub(replace, text)


def copy_gpu_profile(layout: HostLayout, profile: HostProfile) -> None:
    layout.gpu_dir.mkdir()
    for source in sorted(profile.gpu_dir.iterdir()):
        if source.is_file():
            text = _host_specific_uuids(source.read_text(encoding="utf-8"), profile.name)
            (layout.gpu_dir / source.name).write_text(text, encoding="utf-8")


def install_stand_ins(layout: HostLayout, profile: HostProfile, python: str) -> None:
    for directory in (layout.bin_dir, layout.kube_bin_dir, layout.calls_dir):
        directory.mkdir()
    copy_gpu_profile(layout, profile)
    host = str(layout.root)
    _write_executable(layout.bin_dir / "lspci", _launcher(python, "lspci", f"main({host!r}, sys.argv[1:])"))
    gpu_profile = json.loads((layout.gpu_dir / "profile.json").read_text(encoding="utf-8"))
    if gpu_profile["nvidia_smi"] != "absent":
        nvidia_smi = _launcher(python, "nvidia_smi", f"main({host!r}, sys.argv[1:])")
        _write_executable(layout.bin_dir / "nvidia-smi", nvidia_smi)
    for tool in ("kubectl", "helm"):
        call = f"main({host!r}, {tool!r}, sys.argv[1:])"
        _write_executable(layout.kube_bin_dir / tool, _launcher(python, "kube_tool", call))
    reset_kube_state(layout)
    if profile.isolated:
        system_dir = layout.root / "system-stand-ins"  # copied into the host's /usr/local/sbin
        system_dir.mkdir()
        for tool in ("systemctl", "hostnamectl", "sysctl"):
            _write_executable(system_dir / tool, _launcher(python, tool, f"main({host!r}, sys.argv[1:])"))


def reset_kube_state(layout: HostLayout) -> None:
    (layout.kube_bin_dir / "state.json").write_text(json.dumps(EMPTY_KUBE_STATE, indent=2) + "\n")


def clear_calls(layout: HostLayout) -> None:
    for record in layout.calls_dir.glob("*.jsonl"):
        record.unlink()
