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


def test_files_named_by_variables_are_carried_and_renamed_in_the_job() -> None:
    from deepctl.ansible.runner import ControllerFile, PlaybookRun
    from deepctl.executor.job import carry_paths, job_files

    values, secret = ControllerFile("/run/files/a.values.yaml"), ControllerFile("/state/s.yaml")
    extravars = {"releases": [{"values_file": values, "chart_file": "", "name": "a"}],
                 "secrets": [{"path": secret}], "manifests": (values,), "n": 3, "plain": "/x"}
    run = PlaybookRun(Path("/d"), Path("/p.yml"), Path("/inv"), extravars=extravars)
    assert run.files == [values, secret]  # each once, in order; a plain string is no file
    carried = job_files(run.files, "/home/r/job")
    assert carried == {"/run/files/a.values.yaml": "/home/r/job/files/0/a.values.yaml",
                       "/state/s.yaml": "/home/r/job/files/1/s.yaml"}
    assert carry_paths(extravars, carried) == {
        "releases": [{"values_file": "/home/r/job/files/0/a.values.yaml", "chart_file": "",
                      "name": "a"}],
        "secrets": [{"path": "/home/r/job/files/1/s.yaml"}],
        "manifests": ["/home/r/job/files/0/a.values.yaml"], "n": 3, "plain": "/x"}
    assert values == "/run/files/a.values.yaml"  # here: the path itself


def test_pruning_keeps_the_current_the_last_used_the_recent_and_the_held(tmp_path: Path) -> None:
    import os
    import subprocess
    import time

    from deepctl.executor.job import TREES_DIR, prune_script

    trees = tmp_path / TREES_DIR
    now = time.time()
    ages = [600, 1200, 1800, 2400, 7200, 10800, 14400, 18000]  # seconds since last use
    names = [f"{i:064x}" for i in range(1, len(ages) + 1)]
    for name, age in zip(names, ages, strict=True):
        (trees / name).mkdir(parents=True)
        os.utime(trees / name, (now - age, now - age))
    (trees / "not-a-tree").mkdir()
    (trees / ".incoming.x").mkdir()  # a send under way
    locked = tmp_path / "locked"
    held = subprocess.Popen(["flock", "-s", str(trees / names[5]), "sh", "-c",
                             f"touch {locked}; exec sleep 60"])  # a worker running on it
    try:
        while not locked.exists():
            time.sleep(0.05)
        subprocess.run(["sh", "-c", prune_script(names[7])], env={**os.environ,
                       "HOME": str(tmp_path)}, check=True)
    finally:
        held.kill()
        held.wait()
    # the current (8), the 3 used last (1-3), one used within the hour (4), the held (6)
    assert sorted(p.name for p in trees.iterdir()) == sorted(
        [".incoming.x", "not-a-tree", *(names[i] for i in (0, 1, 2, 3, 5, 7))])
