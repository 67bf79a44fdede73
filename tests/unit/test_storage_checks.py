"""Storage: the spec rules (NFS server xor external, Ceph devices and hosts), preflight's Ceph
device check and the facts it reads (lsblk), and the addon stages' dry-run descriptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deepctl.clusterspec import rules
from deepctl.clusterspec.loader import load_spec_text
from deepctl.clusterspec.models import Cluster
from deepctl.errors import SpecError
from deepctl.preflight.model import HostFacts
from deepctl.preflight.script import build_script, parse_output
from deepctl.preflight.storage import check_ceph_devices, check_device
from deepctl.stages.sequences import DEPLOY as CATALOG


def cluster(storage: dict[str, Any], devices: list[list[str]] | None = None) -> Cluster:
    devices = devices if devices is not None else [["/dev/sdb"]] * 3
    hosts = [{"name": f"n{i}", "address": f"10.0.0.{i + 1}", "roles": ["control-plane", "etcd",
                                                                       "worker"] if i == 0 else ["worker"],
              "cephDevices": d} for i, d in enumerate(devices)]
    return Cluster.model_validate({"metadata": {"name": "lab"},
                                   "spec": {"hosts": hosts, "addons": {"storage": storage}}})


def storage_findings(c: Cluster) -> list[tuple[str, str, str]]:
    return [(".".join(map(str, f.path)), f.severity, f.message) for f in rules.check_storage(c)]


def test_ceph_with_devices_on_three_hosts_is_valid() -> None:
    assert storage_findings(cluster({"ceph": {"enabled": True}})) == []


def test_ceph_needs_devices_on_three_hosts() -> None:
    found = storage_findings(cluster({"ceph": {"enabled": True}}, [["/dev/sdb"], [], ["/dev/sdb"]]))
    assert found == [("spec.addons.storage.ceph.enabled", "error",
                      "Ceph needs cephDevices on at least 3 hosts: its default block pool keeps "
                      "3 replicas on different hosts; 2 host(s) list devices (only n0, n2)")]


def test_ceph_devices_must_be_absolute_dev_paths_listed_once() -> None:
    found = storage_findings(cluster({"ceph": {"enabled": True}}, [
        ["sdb", "/dev/sdc", "/dev/sdc"], ["/dev/../etc/passwd"],
        ["/dev/disk/by-id/nvme-Samsung_SSD_980_S649NF0R1", "/dev/disk/by-path/pci-0000:3b:00.0-nvme-1"]]))
    assert found == [
        ("spec.hosts.0.cephDevices.0", "error",
         "'sdb' is not an absolute device path such as /dev/nvme1n1 or /dev/disk/by-id/..."),
        ("spec.hosts.0.cephDevices.2", "error", "/dev/sdc is listed twice"),
        ("spec.hosts.1.cephDevices.0", "error", "'/dev/../etc/passwd' is not an absolute device "
         "path such as /dev/nvme1n1 or /dev/disk/by-id/..."),
    ]


def test_devices_without_ceph_are_a_warning() -> None:
    assert storage_findings(cluster({})) == [
        ("spec.addons.storage.ceph.enabled", "warning",
         "cephDevices are listed (n0, n1, n2) but Ceph is not enabled; they are ignored")]


def test_nfs_server_and_external_server_are_exclusive_and_external_alone_is_enough() -> None:
    both = cluster({"nfs": {"enabled": True, "server": "n0", "externalServer": "192.0.2.5"}}, [[]])
    assert storage_findings(both) == [
        ("spec.addons.storage.nfs.externalServer", "error",
         "both server ('n0', managed by deepctl) and externalServer ('192.0.2.5') are set; "
         "keep one of them")]
    external = cluster({"nfs": {"enabled": True, "externalServer": "192.0.2.5"}}, [[]])
    assert [f for f in rules.check(external) if f.severity == "error"] == []


def test_rule_reported_at_its_line_through_the_loader() -> None:
    text = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd, worker]
      cephDevices: [/dev/sdb, nvme1n1]
  addons:
    storage:
      ceph: {enabled: true}
"""
    with pytest.raises(SpecError) as info:
        load_spec_text(text, Path("/specs/cluster.yaml"))
    formatted = [p.format() for p in info.value.problems]
    assert any(f.startswith("/specs/cluster.yaml:9:") and "spec.hosts[0].cephDevices[1]: 'nvme1n1'"
               in f for f in formatted), formatted
    assert any("spec.addons.storage.ceph.enabled: Ceph needs cephDevices on at least 3 hosts"
               in f for f in formatted), formatted


# -- preflight -------------------------------------------------------------------------------

def lsblk(**device: Any) -> dict[str, Any]:
    base = {"name": "nvme1n1", "path": "/dev/nvme1n1", "size": 3840755982336, "type": "disk",
            "fstype": None, "mountpoint": None}
    return {"rc": 0, "output": "", "device": {**base, **device}}


def test_an_empty_disk_passes() -> None:
    finding = check_device("n0", "/dev/disk/by-id/nvme-x", lsblk())
    assert (finding.status, finding.message) == (
        "ok", "/dev/disk/by-id/nvme-x (/dev/nvme1n1): disk, 3.8 TB, empty")
    assert check_device("n0", "/dev/nvme1n1p2", lsblk(type="part", path="/dev/nvme1n1p2")).status == "ok"


@pytest.mark.parametrize(("device", "message"), [
    ({"fstype": "xfs", "mountpoint": "/data"},
     "/dev/sdb holds a xfs signature, is mounted on /data: Rook only uses empty devices"),
    ({"fstype": "ceph_bluestore"}, "/dev/sdb holds a ceph_bluestore signature: Rook only uses empty devices"),
    ({"children": [{"name": "sdb1"}, {"name": "sdb2"}]},
     "/dev/sdb has partitions (sdb1, sdb2): Rook only uses empty devices"),
    ({"type": "rom"}, "/dev/sdb is a rom, not a disk or partition: Rook only uses empty devices"),
])
def test_a_used_device_is_an_error_saying_why(device: dict[str, Any], message: str) -> None:
    finding = check_device("n0", "/dev/sdb", lsblk(**device))
    assert (finding.status, finding.check, finding.message) == ("error", "resources.ceph-device", message)
    assert finding.hint is not None and "wipefs --all /dev/sdb" in finding.hint


def test_missing_device_and_missing_lsblk() -> None:
    output = 'lsblk: /dev/sdz: not a block device\n{\n   "blockdevices": [\n   ]\n}'
    missing = check_device("n0", "/dev/sdz", {"rc": 32, "output": output, "device": None})
    assert (missing.status, missing.message) == (
        "error", "/dev/sdz does not exist or is not a block device (lsblk: /dev/sdz: not a block device)")
    no_lsblk = check_device("n0", "/dev/sdb", {"rc": None, "output": "", "device": None})
    assert no_lsblk.status == "warning" and "lsblk is not installed" in no_lsblk.message


def test_devices_are_only_examined_when_ceph_is_on() -> None:
    facts = HostFacts(block_devices={"/dev/sdb": lsblk(path="/dev/sdb")})
    on = cluster({"ceph": {"enabled": True}})
    assert [f.status for f in check_ceph_devices(on, on.spec.hosts[0], facts)] == ["ok"]
    off = cluster({})
    assert check_ceph_devices(off, off.spec.hosts[0], facts) == []


def test_facts_script_lists_the_devices_quoted_and_parses_lsblk() -> None:
    script = build_script("10.0.0.1", None, True, devices=["/dev/sdb", "/dev/x y"])
    assert "set -- /dev/sdb '/dev/x y'\n" in script
    assert "lsblk -J -b -o NAME,PATH,SIZE,TYPE,FSTYPE,MOUNTPOINT" in script
    device = {"name": "sdb", "path": "/dev/sdb", "size": "1000", "type": "disk", "fstype": None,
              "mountpoint": None}
    text = ("@@block_devices\n@dev /dev/sdb\n" + json.dumps({"blockdevices": [device]})
            + "\n@rc 0\n@dev /dev/sdz\nlsblk: /dev/sdz: not a block device\n@rc 32\n"
            "@dev /dev/sdy\n@rc absent\n@@end\n")
    facts = parse_output(text, internal_address="10.0.0.1", peer=None, local_time=None)
    assert facts.block_devices["/dev/sdb"]["device"] == device
    assert facts.block_devices["/dev/sdz"]["rc"] == 32
    assert facts.block_devices["/dev/sdy"] == {"rc": None, "output": "", "device": None}
    assert HostFacts.from_json(facts.to_json()).block_devices == facts.block_devices


# -- dry-run descriptions --------------------------------------------------------------------

def test_addon_stage_descriptions_name_the_pinned_charts() -> None:
    c = cluster({"nfs": {"enabled": True, "externalServer": "192.0.2.5"}, "ceph": {"enabled": True}})
    c.spec.addons.logging.enabled = True
    text = {s.name: s.describe(c) for s in CATALOG}
    assert text["storage"] == (
        "helm upgrade --install nfs-subdir-external-provisioner (nfs-subdir-external-provisioner/"
        "nfs-subdir-external-provisioner 4.0.18) in nfs-provisioner, rook-ceph (rook-release/rook-ceph "
        "v1.20.6) in rook-ceph, rook-ceph-cluster (rook-release/rook-ceph-cluster v1.20.6) in rook-ceph; "
        "external server 192.0.2.5 (/export/deepctl), NFS client on every node; Ceph OSDs on n0, n1, "
        "n2; default StorageClass ceph-block")
    assert text["gpu"].startswith("helm upgrade --install gpu-operator (nvidia/gpu-operator v26.3.3)")
    assert "kube-prometheus-stack (prometheus-community/kube-prometheus-stack 87.5.1)" in text["monitoring"]
    assert "loki (grafana-community/loki 18.11.0)" in text["logging"]
    assert "alloy (grafana/alloy 1.11.1)" in text["logging"]
    assert "jupyterhub (jupyterhub/jupyterhub 4.4.0)" in text["jupyterhub"]
    c.spec.addons.gpu.operator_version = "v26.3.4"
    assert "(nvidia/gpu-operator v26.3.4)" in CATALOG[[s.name for s in CATALOG].index("gpu")].describe(c)
