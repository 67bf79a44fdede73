"""The job sent to the executor (pure parts): keys, inventory overrides, settings with the
executor's paths, and the stats of a streamed run."""

from __future__ import annotations

from pathlib import Path

import yaml

from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.remote import stats_of
from deepctl.clusterspec.loader import load_spec_text
from deepctl.executor.job import identity_files, inventory_overrides, key_names, remote_settings
from deepctl.state import StateDir
from tests.unit.test_spec_rules import HEAD, SPEC_FILE

BODY = """\
  ssh:
    identityFile: keys/main
    bastion: {address: jump.lab, identityFile: /keys/jump}
  hosts:
    - {name: cp1, address: 10.0.0.11, roles: [control-plane, etcd, worker]}
    - {name: wk1, address: 10.0.0.12, roles: [worker], ssh: {identityFile: /keys/wk}}
  addons: {gpu: {enabled: false}}
"""


def cluster():  # type: ignore[no-untyped-def]
    return load_spec_text(HEAD + BODY, SPEC_FILE).cluster


def test_each_distinct_key_is_sent_once_and_hosts_point_at_it() -> None:
    keys = identity_files(cluster(), Path("/specs"))
    assert keys == {"cp1": Path("/specs/keys/main"), "wk1": Path("/keys/wk"),
                    "bastion": Path("/keys/jump")}
    names = key_names(keys)
    assert sorted(names.values()) == ["key0", "key1", "key2"]
    overrides = yaml.safe_load(inventory_overrides(keys, names, "/home/r/job"))
    assert overrides == {"all": {"hosts": {
        "cp1": {"ansible_ssh_private_key_file": f"/home/r/job/keys/{names[keys['cp1']]}"},
        "wk1": {"ansible_ssh_private_key_file": f"/home/r/job/keys/{names[keys['wk1']]}"}}}}


def test_settings_on_the_executor_use_its_paths_and_keep_host_keys_checked() -> None:
    c = cluster()
    local = ansible_settings.settings_for(c, StateDir(Path("/state")))
    there = remote_settings(local, c, "/home/r/job", "/home/r/job/artifacts/cluster/fact_cache",
                            "/tmp/deepctl-cp-1", "/home/r/job/keys/key2")
    text = ansible_settings.render_ansible_cfg(there)
    assert "UserKnownHostsFile=/home/r/job/known_hosts" in text
    assert "StrictHostKeyChecking=yes" in text and "/state" not in text
    assert "fact_caching_connection = /home/r/job/artifacts/cluster/fact_cache" in text
    assert "control_path_dir = /tmp/deepctl-cp-1" in text
    assert "-i /home/r/job/keys/key2" in text  # the bastion hop from the executor
    assert there.bastion_log is None and there.forks == local.forks


def test_stats_come_from_the_stats_event() -> None:
    event = {"event": "playbook_on_stats",
             "event_data": {"ok": {"cp1": 3}, "failures": {}, "changed": {"cp1": 1}}}
    stats = stats_of(event)
    assert stats is not None and stats["ok"] == {"cp1": 3} and stats["dark"] == {}
    assert stats_of({"event": "runner_on_ok"}) is None


def test_tree_digest_follows_content_not_git(tmp_path: Path) -> None:
    from deepctl.executor.job import tree_digest

    (tmp_path / "roles").mkdir()
    (tmp_path / "cluster.yml").write_text("- hosts: all\n")
    (tmp_path / "roles" / "main.yml").write_text("a: 1\n")
    first = tree_digest(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref\n")
    assert tree_digest(tmp_path) == first
    (tmp_path / "roles" / "main.yml").write_text("a: 2\n")
    assert tree_digest(tmp_path) != first
