"""The container runtime settings spec.offline renders, through Kubespray's own templates.

Kubespray's containerd ``hosts.toml.j2`` and CRI-O ``registry.conf.j2`` are rendered by Ansible
on this machine (no host contacted), with the variables of deepctl's rendered inventory, the
way their roles loop over ``containerd_registries_mirrors`` / ``crio_registries``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.ansible.runner import PlaybookRun, run_playbook
from deepctl.clusterspec.models import Cluster
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.kubevars.render import HOSTS_FILE, render_inventory, write_inventory
from tests.specs import MINIMAL_SPEC
from tests.tls_support import make_ca

ROOT = Path(__file__).resolve().parents[2]
KUBESPRAY = Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY") or ROOT.parent / "shared" / "kubespray-v2.31.0")
TEMPLATES = {
    "containerd": ("containerd_registries_mirrors",
                   "roles/container-engine/containerd/templates/hosts.toml.j2"),
    "crio": ("crio_registries", "roles/container-engine/cri-o/templates/registry.conf.j2"),
}
PLAYBOOK = """\
- name: Kubespray's registry templates
  hosts: all
  gather_facts: false
  connection: local
  tasks:
    - name: rendered
      ansible.builtin.debug:
        msg: "{{ lookup('ansible.builtin.template', template) }}"
      loop: "{{ lookup('vars', loop_var) }}"
"""

pytestmark = pytest.mark.skipif(
    not (KUBESPRAY / TEMPLATES["crio"][1]).is_file(),
    reason=f"no Kubespray v2.31.0 tree at {KUBESPRAY} (set DEEPCTL_TEST_KUBESPRAY)",
)


def render(runtime: str, tmp_path: Path, **offline: Any) -> list[str]:
    data = yaml.safe_load(MINIMAL_SPEC)
    data["spec"]["kubernetes"] = {"containerRuntime": runtime}
    data["spec"]["addons"]["monitoring"] = {"enabled": False}
    data["spec"]["offline"] = {"files": "http://127.0.0.1:8080/files", "registry": "127.0.0.1:5000",
                               **offline}
    inventory = tmp_path / "inventory"
    write_inventory(inventory, render_inventory(Cluster.model_validate(data), "test"))
    playbook = ensure_private_dir(tmp_path / "project") / "render.yml"
    atomic_write(playbook, PLAYBOOK)
    loop_var, template = TEMPLATES[runtime]
    rendered: list[str] = []

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") == "runner_item_on_ok":
            rendered.append(str(event["event_data"]["res"]["msg"]))

    result = run_playbook(PlaybookRun(
        private_data_dir=ensure_private_dir(tmp_path / "run"), playbook=playbook,
        inventory=inventory / HOSTS_FILE, ident="render",
        envvars={"ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_HOME": str(tmp_path / "home"),
                 "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")},
        extravars={"template": str(KUBESPRAY / template), "loop_var": loop_var,
                   "ansible_python_interpreter": sys.executable}), on_event=on_event)
    assert result.rc == 0, json.dumps(result.stats)
    return rendered


def test_containerd_pulls_from_a_plain_http_registry(tmp_path: Path) -> None:
    (text,) = render("containerd", tmp_path, insecureRegistry=True)
    assert text.splitlines()[:5] == [
        'server = "http://127.0.0.1:5000"',
        '[host."http://127.0.0.1:5000"]',
        '  capabilities = ["pull","resolve"]',
        "  skip_verify = true",
        "  override_path = false",
    ]


def test_containerd_trusts_the_mirror_ca(tmp_path: Path) -> None:
    ca = make_ca(tmp_path).cert
    (text,) = render("containerd", tmp_path, caFile=str(ca))
    assert 'server = "https://127.0.0.1:5000"' in text
    assert "  skip_verify = false" in text
    assert '  ca = ["/etc/deepctl/mirror-ca.pem"]' in text


def test_crio_pulls_from_a_plain_http_registry(tmp_path: Path) -> None:
    (text,) = render("crio", tmp_path, insecureRegistry=True)
    assert text.splitlines() == [
        "[[registry]]", 'prefix = "127.0.0.1:5000"', "insecure = true", "blocked = false",
        'location = "127.0.0.1:5000"']
