"""The Ansible boundary's pure parts, compared by equality (ansible-runner's own style)."""

from __future__ import annotations

from pathlib import Path

from deepctl.ansible.environment import FILTER_PLUGINS, ansible_env, kubespray_dirs, runner_kwargs
from deepctl.ansible.plugins.filter.deepctl_helm import helm_action
from deepctl.state import StateDir


def test_environment_of_every_ansible_process() -> None:
    assert ansible_env(Path("/s/runs/r1/ansible.cfg"), "/venv/bin/ansible-playbook",
                       path="/usr/bin:/bin") == {
        "ANSIBLE_CONFIG": "/s/runs/r1/ansible.cfg",
        "ANSIBLE_FILTER_PLUGINS": str(FILTER_PLUGINS),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "PATH": "/venv/bin:/usr/bin:/bin",
        "DEEPCTL_ANSIBLE_PLAYBOOK": "/venv/bin/ansible-playbook",
    }
    assert "ANSIBLE_CONFIG" not in ansible_env(None, "/venv/bin/ansible-playbook", path="")


def test_kubespray_keeps_its_outputs_in_the_state_not_in_the_run() -> None:
    assert kubespray_dirs(StateDir(Path("/s"))) == {
        "artifacts_dir": "/s/inventory/artifacts", "credentials_dir": "/s/inventory/credentials"}


def test_runner_arguments() -> None:
    common = {"private_data_dir": Path("/s/runs/r1/ansible/kubespray"),
              "playbook": Path("/k/cluster.yml"), "inventory": Path("/s/runs/r1/inventory"),
              "envvars": {"A": "1"}, "extravars": {"x": 1}, "ident": "cluster"}
    assert runner_kwargs(**common) == {  # type: ignore[arg-type]
        "private_data_dir": "/s/runs/r1/ansible/kubespray", "playbook": "/k/cluster.yml",
        "inventory": "/s/runs/r1/inventory", "envvars": {"A": "1"}, "extravars": {"x": 1},
        "ident": "cluster", "quiet": True}
    full = runner_kwargs(**common, cmdline="--become", limit="wk2", forks=8,  # type: ignore[arg-type]
                         settings={"pexpect_timeout": 0.5}, fact_cache=Path("/s/facts-cache"))
    assert {k: full[k] for k in ("cmdline", "limit", "forks", "settings", "fact_cache")} == {
        "cmdline": "--become", "limit": "wk2", "forks": 8, "settings": {"pexpect_timeout": 0.5},
        "fact_cache": "/s/facts-cache"}


def test_filter_plugins_are_shipped_where_ansible_is_told() -> None:
    assert (FILTER_PLUGINS / "deepctl_helm.py").is_file()


DEPLOYED = '[{"name": "loki", "status": "deployed", "chart": "loki-18.11.0"}]'


def test_helm_action() -> None:
    values = "a: 1\nb: |\n  text\n"
    current = '{"a": 1, "b": "text\\n"}'
    assert helm_action(DEPLOYED, current, values, "loki", "18.11.0") == {
        "status": "deployed", "action": "skip"}
    assert helm_action(DEPLOYED, current, values, "loki", "18.12.0")["action"] == "upgrade"
    assert helm_action(DEPLOYED, '{"a": 2}', values, "loki", "18.11.0")["action"] == "upgrade"
    assert helm_action("", "", values, "loki", "18.11.0") == {"status": "absent",
                                                            "action": "upgrade"}
    assert helm_action("[]", None, "", "loki", "18.11.0")["action"] == "upgrade"
    for status, action in (("failed", "upgrade"), ("pending-upgrade", "rollback"),
                           ("pending-rollback", "rollback"), ("pending-install", "uninstall")):
        listed = DEPLOYED.replace('"deployed"', f'"{status}"')
        assert helm_action(listed, current, values, "loki", "18.11.0") == {
            "status": status, "action": action}
