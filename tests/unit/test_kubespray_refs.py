"""scripts/kubespray_refs.py: every variable name a Kubespray-like tree defines or reads, found
by parsing its YAML and Jinja (defaults, `is defined`, `default()`, templates, hostvars)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def refs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kubespray_refs", ROOT / "scripts" /
                                                  "kubespray_refs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["kubespray_refs"] = module
    spec.loader.exec_module(module)
    return module


def test_names_only_tested_or_defaulted_are_found() -> None:
    mod = refs()
    found = mod.names_in_expression(
        "kubelet_seccomp_default is defined and (a | default(b) | ansible.utils.ipaddr)"
    )
    assert found == {"kubelet_seccomp_default", "a", "b"}
    assert mod.names_in_template(
        "{% for h in groups['etcd'] %}{{ hostvars[h]['etcd_member_name'] }}"
        "{{ hostvars[h].access_ip }}{% set x = 1 %}{{ x }}{% endfor %}"
    ) == {"groups", "hostvars", "etcd_member_name", "access_ip"}


def test_scan_of_a_tree_finds_definitions_conditions_and_templates(tmp_path: Path) -> None:
    role = tmp_path / "roles" / "demo"
    (role / "defaults").mkdir(parents=True)
    (role / "tasks").mkdir()
    (role / "templates").mkdir()
    (role / "defaults" / "main.yml").write_text("demo_port: 80\ndemo_url: '{{ demo_host }}'\n")
    (role / "tasks" / "main.yml").write_text(
        "- name: t\n  command: x {{ demo_flag | d('') }}\n  when: demo_enabled | bool\n"
        "  register: demo_out\n- set_fact:\n    demo_fact: 1\n"
        "- assert:\n    that: [demo_checked is defined]\n  vars: {demo_local: !unsafe '{{ y }}'}\n"
    )
    (role / "templates" / "c.j2").write_text("{{ demo_template_only }} {{ ansible_os_family }}\n")
    (tmp_path / "playbooks").mkdir()
    names = refs().scan_tree(tmp_path)
    assert names == {"demo_port", "demo_url", "demo_host", "demo_flag", "demo_enabled",
                     "demo_out", "demo_fact", "demo_checked", "demo_local", "y",
                     "demo_template_only"}  # facts (ansible_*) and magic variables left out
