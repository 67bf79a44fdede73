"""spec.ansible.strategy: mitogen -> Mitogen's mitogen_linear strategy in the run's ansible.cfg."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepctl.ansible import settings as ansible_settings
from deepctl.clusterspec.models import Cluster
from deepctl.errors import AnsibleError
from deepctl.state import StateDir


def cluster(strategy: str) -> Cluster:
    return Cluster.model_validate({
        "apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
        "spec": {"ansible": {"strategy": strategy},
                 "hosts": [{"name": "cp1", "address": "192.0.2.10",
                            "roles": ["control-plane", "etcd", "worker"]}]}})


def test_mitogen_strategy_points_ansible_at_the_installed_plugins() -> None:
    settings = ansible_settings.settings_for(cluster("mitogen"), StateDir(Path("/s")))
    plugins = ansible_settings.mitogen_strategy_dir()
    assert plugins is not None and (plugins / "mitogen_linear.py").is_file()
    assert (settings.strategy, settings.strategy_plugins) == ("mitogen_linear", plugins)
    text = ansible_settings.render_ansible_cfg(settings)
    assert "strategy = mitogen_linear\n" in text
    assert f"strategy_plugins = {plugins}\n" in text
    assert "host_key_checking = True\n" in text and "StrictHostKeyChecking=yes" in text
    assert "interpreter_python = /usr/bin/python3\n" in text  # no discovery: one bootstrap


def test_linear_has_no_strategy_plugins() -> None:
    settings = ansible_settings.settings_for(cluster("linear"), StateDir(Path("/s")))
    text = ansible_settings.render_ansible_cfg(settings)
    assert settings.strategy_plugins is None
    assert "strategy = linear\n" in text and "strategy_plugins" not in text
    assert "interpreter_python = auto_silent\n" in text


def test_mitogen_missing_is_a_clear_error_with_the_install_command() -> None:
    settings = ansible_settings.AnsibleSettings(
        forks=1, known_hosts=Path("/s/kh"), fact_cache=Path("/s/f"), control_dir=Path("/s/ssh"),
        strategy="mitogen_linear", strategy_plugins=None)
    with pytest.raises(AnsibleError) as raised:
        ansible_settings.render_ansible_cfg(settings)
    assert "Mitogen is not installed" in raised.value.message
    assert raised.value.hint is not None
    assert "-m pip install 'mitogen>=" in raised.value.hint
    assert "strategy: linear" in raised.value.hint
