"""The CLI as a person types it: through Typer's CliRunner (fast, in-process) and as a
subprocess of the installed ``deepctl`` script (what a shell runs)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import typer

from deepctl import __version__
from deepctl.cli.application import app
from deepctl.clusterspec.loader import load_spec
from tests.cli.conftest import DEEPCTL, MINIMAL_SPEC, Invoke, Run, Sandbox

HEAVY_MODULES = ("ansible", "ansible_runner", "paramiko", "kubernetes")

WARNING_SPEC = MINIMAL_SPEC.replace("gpu: {enabled: false}", "gpu: {enabled: true}")
BROKEN_SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: Lab
spec:
  kubernetes:
    version: "1.30.0"
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd]
      gpu: sometimes
  addons:
    gpu: {enabled: false}
"""
BROKEN_PROBLEMS = [  # (line, column, field path, message fragment)
    (4, 9, "metadata.name", "'Lab' is not a lower-case RFC 1123 label"),
    (7, 14, "spec.kubernetes.version", "Kubernetes 1.30.0 is not supported"),
    (9, 5, "spec.hosts", "no host has the role 'worker'"),
    (12, 12, "spec.hosts[0].gpu", "valid boolean"),
]


def all_command_paths() -> list[list[str]]:
    """Every command and sub-command of the app, e.g. [["init"], ["kubespray", "fetch"]]."""
    root: Any = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(group: Any, prefix: list[str]) -> None:
        for name, sub in sorted(group.commands.items()):
            paths.append([*prefix, name])
            if hasattr(sub, "commands"):
                walk(sub, [*prefix, name])

    walk(root, [])
    return paths


# -- init --------------------------------------------------------------------------------------
@pytest.mark.parametrize("example", ["single-node", "ha", "gpu-cluster"])
def test_init_example_writes_a_commented_spec_that_validates(
    cli: Invoke, sandbox: Sandbox, example: str
) -> None:
    out = sandbox.work / f"{example}.yaml"
    result = cli("init", "--example", example, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.stdout
    text = out.read_text()
    assert text.startswith("#")
    assert any(re.match(r"^  name: \S+\s+# ", line) for line in text.splitlines()), "no comments"
    cluster = load_spec(out, strict=True).cluster
    assert cluster.control_plane and cluster.workers and len(cluster.etcd) % 2 == 1
    if example == "gpu-cluster":
        assert cluster.gpu_hosts and cluster.spec.addons.gpu.enabled


def test_init_flags(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli(
        "init", "--name", "lab2", "--control-plane", "192.0.2.11", "--control-plane",
        "192.0.2.12", "--control-plane", "192.0.2.13", "--control-plane", "192.0.2.14",
        "--worker", "192.0.2.21", "--gpu-worker", "192.0.2.31", "--gpu-worker", "192.0.2.32",
        "--user", "admin", "--identity-file", "/keys/lab2",
    )
    assert result.exit_code == 0, result.output
    cluster = load_spec(sandbox.work / "cluster.yaml", strict=True).cluster
    assert cluster.name == "lab2"
    assert [h.name for h in cluster.control_plane] == ["cp1", "cp2", "cp3", "cp4"]
    assert [h.name for h in cluster.etcd] == ["cp1", "cp2", "cp3"]  # the largest odd number
    assert [h.name for h in cluster.workers] == ["wk1", "gpu1", "gpu2"]
    assert [h.name for h in cluster.gpu_hosts] == ["gpu1", "gpu2"]
    assert cluster.spec.ssh.user == "admin"
    assert str(cluster.spec.ssh.identity_file) == "/keys/lab2"
    assert cluster.spec.addons.gpu.enabled


def test_init_only_control_planes_also_run_workloads_and_no_gpu(
    cli: Invoke, sandbox: Sandbox
) -> None:
    result = cli("init", "--control-plane", "192.0.2.11", "--no-gpu", "-o", "one.yaml")
    assert result.exit_code == 0, result.output
    cluster = load_spec(sandbox.work / "one.yaml", strict=True).cluster
    assert cluster.spec.hosts[0].roles == ["control-plane", "etcd", "worker"]
    assert not cluster.spec.addons.gpu.enabled


def test_init_refuses_to_overwrite_without_force(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec("# mine\n")
    result = cli("init", "--example", "ha", "-o", str(spec))
    assert result.exit_code == 2
    assert f"error: {spec} already exists" in result.stderr
    assert "hint: pass --force to overwrite it" in result.stderr
    assert spec.read_text() == "# mine\n"
    result = cli("init", "--example", "ha", "-o", str(spec), "--force")
    assert result.exit_code == 0, result.output
    assert load_spec(spec).cluster.name == "ha-cluster"


def test_init_without_addresses_off_a_terminal_is_a_usage_error(
    cli: Invoke, sandbox: Sandbox
) -> None:
    result = cli("init")
    assert result.exit_code == 2
    assert "error: at least one --control-plane ADDRESS is needed" in result.stderr
    assert not (sandbox.work / "cluster.yaml").exists()


def test_init_rejects_what_would_not_validate_and_writes_nothing(
    cli: Invoke, sandbox: Sandbox
) -> None:
    result = cli("init", "--control-plane", "not an address")
    assert result.exit_code == 2
    assert "'not an address' is neither an IP address nor a DNS name" in result.stderr
    assert "nothing was written" in result.stderr
    result = cli("init", "--control-plane", "192.0.2.1", "--identity-file", "k\n    x: 1")
    assert result.exit_code == 2
    assert "--identity-file" in result.stderr and "cannot be written" in result.stderr
    assert not (sandbox.work / "cluster.yaml").exists()


def test_init_asks_interactively_on_a_terminal(sandbox: Sandbox) -> None:
    """With no flags on a TTY, init asks; answers typed ahead are read line by line."""
    controller, terminal = pty.openpty()
    answers = "lab3\n192.0.2.11 192.0.2.12 192.0.2.13\n192.0.2.21\n192.0.2.31\nadmin\n/keys/id\n"
    with subprocess.Popen([str(DEEPCTL), "init"], stdin=terminal, stdout=terminal,
                          stderr=terminal, cwd=sandbox.work, env=sandbox.env()) as process:
        os.close(terminal)
        os.write(controller, answers.encode())
        output = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=30) == 0, output.decode(errors="replace")
    os.close(controller)
    text = output.decode(errors="replace")
    assert "Cluster name" in text and "Control-plane addresses" in text
    cluster = load_spec(sandbox.work / "cluster.yaml", strict=True).cluster
    assert cluster.name == "lab3"
    assert [h.name for h in cluster.spec.hosts] == ["cp1", "cp2", "cp3", "wk1", "gpu1"]
    assert (cluster.spec.ssh.user, str(cluster.spec.ssh.identity_file)) == ("admin", "/keys/id")


def test_init_as_a_subprocess(run_deepctl: Run, sandbox: Sandbox) -> None:
    result = run_deepctl("init", "--example", "gpu-cluster", "-o", "gpu.yaml")
    assert result.returncode == 0, result.stderr
    assert load_spec(sandbox.work / "gpu.yaml", strict=True).cluster.name == "gpu-cluster"


# -- validate ----------------------------------------------------------------------------------
def test_validate_ok_renders_into_the_state_dir(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec()
    result = cli("validate", str(spec), "--no-kubespray")
    assert result.exit_code == 0, result.output
    assert f"✓ {spec} passes deepctl's checks: cluster 'lab': 1 hosts" in result.stdout
    state = sandbox.work / ".deepctl" / "lab"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert (state / "inventory" / "hosts.yaml").is_file()
    assert result.stderr == ""


def test_validate_reports_every_problem_as_file_line_col(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(BROKEN_SPEC)
    result = cli("validate", str(spec), "--no-kubespray")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    problem_lines = [line for line in lines if line.startswith(f"{spec}:")]
    assert len(problem_lines) == len(BROKEN_PROBLEMS)
    for line, (row, col, path, fragment) in zip(problem_lines, BROKEN_PROBLEMS, strict=True):
        assert line.startswith(f"{spec}:{row}:{col}: {path}: "), line
        assert fragment in line
    assert lines[-2] == f"error: {spec}: 4 problems found"
    assert lines[-1].startswith("hint: ")
    assert not (sandbox.work / ".deepctl").exists()  # nothing rendered from a bad spec


def test_validate_json(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(WARNING_SPEC)
    ok = json.loads(cli("validate", str(spec), "--json", "--no-kubespray").stdout)
    assert ok["valid"] is True and ok["cluster"] == "lab"
    # the sandbox's HOME holds no ~/.ssh/id_ed25519: validate says so too (issue 22)
    assert [w["path"] for w in ok["warnings"]] == ["spec.addons.gpu.enabled",
                                                   "spec.ssh.identityFile"]
    assert ok["warnings"][0]["severity"] == "warning"
    assert all(Path(p).is_file() for p in ok["inventory"])
    assert ok["kubespray"]["ran"] is False

    result = cli("validate", str(sandbox.spec(BROKEN_SPEC)), "--json", "--no-kubespray")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]  # one JSON document, nothing else
    assert (error["kind"], error["code"]) == ("spec", 2)
    found = [(p["line"], p["column"], p["path"]) for p in error["problems"]]
    assert found == [(row, col, path) for row, col, path, _ in BROKEN_PROBLEMS]


def test_validate_strict_turns_warnings_into_exit_2(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(WARNING_SPEC)
    relaxed = cli("validate", str(spec), "--no-kubespray")
    assert relaxed.exit_code == 0
    assert f"{spec}:11:20: warning: spec.addons.gpu.enabled: the GPU addon" in relaxed.stdout
    strict = cli("validate", str(spec), "--no-kubespray", "--strict")
    assert strict.exit_code == 2
    assert f"{spec}:11:20: spec.addons.gpu.enabled: " in strict.stderr
    assert "(warning, error under --strict)" in strict.stderr


def test_validate_state_dir_option(cli: Invoke, sandbox: Sandbox) -> None:
    state = sandbox.root / "elsewhere" / "state"
    result = cli("validate", str(sandbox.spec()), "--no-kubespray", "--state-dir", str(state))
    assert result.exit_code == 0, result.output
    assert (state / "inventory" / "hosts.yaml").is_file()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert not (sandbox.work / ".deepctl").exists()


def test_validate_errors_as_a_subprocess(run_deepctl: Run, sandbox: Sandbox) -> None:
    spec = sandbox.spec(BROKEN_SPEC)
    result = run_deepctl("validate", str(spec), "--no-kubespray")
    assert result.returncode == 2
    for row, col, path, fragment in BROKEN_PROBLEMS:
        assert re.search(rf"^{re.escape(str(spec))}:{row}:{col}: {re.escape(path)}: .*"
                         rf"{re.escape(fragment)}", result.stderr, re.M), result.stderr
    assert result.stdout == ""


# -- deploy --dry-run --------------------------------------------------------------------------
HA_SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {name: ha}
spec:
  hosts:
    - {name: cp1, address: 192.0.2.11, roles: [control-plane, etcd]}
    - {name: cp2, address: 192.0.2.12, roles: [control-plane, etcd]}
    - {name: cp3, address: 192.0.2.13, roles: [control-plane, etcd]}
    - {name: gpu1, address: 192.0.2.31, roles: [worker], gpu: true}
    - {name: wk1, address: 192.0.2.21, roles: [worker]}
"""


def test_deploy_dry_run_prints_the_plan(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("deploy", str(sandbox.spec(HA_SPEC)), "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Plan for cluster ha (dry run: nothing is contacted)" in out
    assert "Kubernetes 1.35.4 with Kubespray v2.31.0" in out
    assert re.search(r"control-plane\s*│\s*3 │\s*cp1, cp2, cp3", out)
    assert re.search(r"worker\s*│\s*2 │\s*gpu1, wk1", out)
    assert "playbooks: cluster.yml" in out
    assert "local API load balancer" in out  # HA without apiServerLoadBalancer
    rows = re.findall(r"^│\s*(\d+) │ (\S+)", out, re.M)
    from deepctl.stages.sequences import deploy_stages  # not at import: --help tests load this

    expected = [(str(i), s.name) for i, s in enumerate(deploy_stages(), start=1)]
    # a table wider than 200 columns off a terminal is split into tables that repeat the
    # key columns (# and stage): each part lists every stage, in order
    assert rows and rows == expected * (len(rows) // len(expected))
    assert (sandbox.work / ".deepctl" / "ha" / "inventory" / "hosts.yaml").is_file()


def test_deploy_dry_run_json_orders_stages_by_their_dependencies(
    cli: Invoke, sandbox: Sandbox
) -> None:
    result = cli("deploy", str(sandbox.spec(HA_SPEC)), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["dryRun"] is True and plan["cluster"] == "ha"
    assert plan["roles"] == {
        "control-plane": ["cp1", "cp2", "cp3"], "etcd": ["cp1", "cp2", "cp3"],
        "worker": ["gpu1", "wk1"], "gpu": ["gpu1"],
    }
    names = [s["name"] for s in plan["stages"]]
    from deepctl.stages.sequences import DEPLOY  # not at import: --help tests load this

    assert sorted(names) == sorted(s.name for s in DEPLOY)
    for stage in DEPLOY:
        for dependency in stage.after:
            assert names.index(dependency) < names.index(stage.name), (dependency, stage.name)
    enabled = {s["name"]: s["enabled"] for s in plan["stages"]}
    assert enabled["gpu"] is True and enabled["jupyterhub"] is False
    assert plan["kubespray"]["tag"] == "v2.31.0"


def test_deploy_dry_run_contacts_no_host(run_deepctl: Run, sandbox: Sandbox) -> None:
    """The only host is a listening socket on loopback: a dry run must never connect to it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        spec = sandbox.spec(MINIMAL_SPEC.replace("192.0.2.11", "127.0.0.1")
                            + f"  ssh: {{port: {port}}}\n")
        result = run_deepctl("deploy", str(spec), "--dry-run", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["roles"]["control-plane"] == ["cp1"]
        with pytest.raises(TimeoutError):
            listener.accept()


# -- schema, version, help ---------------------------------------------------------------------
def test_schema_is_a_json_schema_of_the_spec(cli: Invoke) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"metadata", "spec"}
    assert {"apiVersion", "kind", "metadata", "spec"} <= set(schema["properties"])
    assert schema["properties"]["apiVersion"].get("const") == "deepctl/v1alpha1" or (
        schema["properties"]["apiVersion"].get("enum") == ["deepctl/v1alpha1"]
    )
    defs = schema["$defs"]
    refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', result.stdout)
    assert refs and all(ref in defs for ref in refs)
    for name, definition in defs.items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition.get("additionalProperties") is False, name
            for prop in definition["properties"]:
                assert "_" not in prop, f"{name}.{prop} is not camelCase"
    host = defs["Host"]
    assert set(host["required"]) == {"name", "address", "roles"}
    assert {"internalAddress", "gpu", "labels", "taints", "ssh"} <= set(host["properties"])


def test_version(cli: Invoke, run_deepctl: Run) -> None:
    assert cli("--version").stdout == f"deepctl {__version__}\n"
    result = run_deepctl("--version")
    assert (result.returncode, result.stdout) == (0, f"deepctl {__version__}\n")


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "deepctl")
def test_help_on_every_command(cli: Invoke, path: list[str]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    if path and path != ["kubespray"]:
        assert "Example" in result.stdout, f"`deepctl {' '.join(path)} --help` has no example"


def test_help_imports_no_heavy_library(sandbox: Sandbox) -> None:
    """Importing the CLI and asking every command for --help loads no ansible, paramiko or
    kubernetes module (checked in a fresh interpreter)."""
    script = textwrap.dedent(
        f"""
        import json, sys
        from typer.testing import CliRunner
        from deepctl.cli.application import app
        from tests.cli.test_cli import all_command_paths
        codes = [CliRunner().invoke(app, [*p, "--help"]).exit_code for p in all_command_paths()]
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY_MODULES!r})
        print(json.dumps({{"codes": codes, "heavy": heavy}}))
        """
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=root, env=sandbox.env(), check=True, timeout=60)
    report = json.loads(result.stdout)
    assert set(report["codes"]) == {0}
    assert report["heavy"] == []


def test_help_is_fast_as_a_subprocess(run_deepctl: Run) -> None:
    started = time.monotonic()
    result = run_deepctl("--help")
    elapsed = time.monotonic() - started
    assert result.returncode == 0 and "validate" in result.stdout and "init" in result.stdout
    assert elapsed < 3.0, f"deepctl --help took {elapsed:.2f} s"


# -- kubespray fetch ---------------------------------------------------------------------------
def make_kubespray_remote(root: Path, tag: str = "v2.31.0") -> Path:
    """A bare git repository holding a tiny stand-in Kubespray tree tagged ``tag``."""
    source = root / "kubespray-src"
    (source / "roles" / "standin" / "defaults").mkdir(parents=True)
    (source / "playbooks").mkdir()
    for playbook in ("cluster.yml", "scale.yml", "playbooks/facts.yml"):
        (source / playbook).write_text(f"# stand-in for Kubespray's {playbook}\n")
    (source / "roles" / "standin" / "defaults" / "main.yml").write_text("x: 1\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid",
           "-c", "init.defaultBranch=master", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "stand-in"],
                 ["tag", tag]):
        subprocess.run([*git, *args], cwd=source, check=True, capture_output=True)
    bare = root / "kubespray.git"
    subprocess.run([*git, "clone", "-q", "--bare", str(source), str(bare)], check=True,
                   capture_output=True)
    return bare


def test_kubespray_fetch_clones_the_tag_into_the_cache(
    run_deepctl: Run, cli: Invoke, sandbox: Sandbox
) -> None:
    bare = make_kubespray_remote(sandbox.root)
    result = run_deepctl("kubespray", "fetch", "--repo", f"file://{bare}")
    assert result.returncode == 0, result.stderr
    tree = sandbox.cache / "deepctl" / "kubespray" / "v2.31.0"
    assert (tree / "cluster.yml").is_file()
    assert f"Kubespray v2.31.0 is at {tree}" in result.stdout
    # Not the pinned upstream commit: said plainly.
    assert "warning: expected commit 1c9add48975060f45396b34d8e022c30d7f80dab" in result.stdout
    assert not (tree.parent / "v2.31.0.partial").exists()
    # Present now: a second fetch uses it without cloning (the remote is gone).
    subprocess.run(["rm", "-rf", str(bare)], check=True)
    again = cli("kubespray", "fetch", "--repo", f"file://{bare}")
    assert again.exit_code == 0, again.output
    # And deploy --dry-run names it as the source.
    plan = json.loads(cli("deploy", str(sandbox.spec()), "--dry-run", "--json").stdout)
    if plan["kubespray"]["source"].startswith("Kubespray v2.31.0 from vendor"):
        pytest.skip("a populated vendor/kubespray takes precedence over the cache")
    assert plan["kubespray"]["source"] == f"Kubespray v2.31.0 from cache ({tree})"


def test_kubespray_fetch_offline_names_the_three_ways(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("kubespray", "fetch", "--repo", f"file://{sandbox.root}/no-such-repo.git")
    assert result.exit_code == 1
    err = result.stderr
    assert "error: no Kubespray v2.31.0 tree found: cloning file://" in err
    assert "set spec.kubespray.path" in err
    assert "git submodule update --init vendor/kubespray" in err
    assert "deepctl kubespray fetch" in err
    assert not (sandbox.cache / "deepctl" / "kubespray" / "v2.31.0").exists()


def test_kubespray_fetch_of_a_missing_tag(cli: Invoke, sandbox: Sandbox) -> None:
    bare = make_kubespray_remote(sandbox.root, tag="v0.0.1")
    result = cli("kubespray", "fetch", "--repo", f"file://{bare}")
    assert result.exit_code == 1
    assert "no Kubespray v2.31.0 tree found" in result.stderr
