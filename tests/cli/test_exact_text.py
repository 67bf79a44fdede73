"""Issue 22: values are shown exactly as given, by every command and in ``--json``.

rich read ``:a:``, ``:x:`` and ``:smile:`` as emoji codes (``fd00:a:b::1`` printed as
``fd00🅰b::1``, ``root:x:0:0`` as ``root❌0:0``) and ``[...]`` as markup. Here the spec lives
in a directory whose name holds all of them, its key path and a kubesprayVars value too, so
every path, address and value a command prints must come out whole.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from shlex import quote

import pytest

from tests.cli.conftest import Invoke, Sandbox

HOSTILE_DIR = "w fd00:a:b::1 root:x:0:0 :smile: [bold]x"
VALUE = ":smile: root:x:0:0 [red]x[/red] fd00:a:b::1"
KEY = "key :smile: [bold]x"

SPEC = f"""\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab
spec:
  ssh:
    identityFile: "{KEY}"
  hosts:
    - name: cp1
      address: "fd00:a:b::1"
      roles: [control-plane, etcd, worker]
  addons:
    gpu: {{enabled: false}}
  kubesprayVars:
    kube_oidc_url: "{VALUE}"
"""


@pytest.fixture
def spec(sandbox: Sandbox) -> Path:
    folder = sandbox.work / HOSTILE_DIR
    folder.mkdir()
    path = folder / "cluster.yaml"
    path.write_text(SPEC, encoding="utf-8")
    # the key exists (validate warns about a missing one, which would be a line of its own)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / KEY)],
                   check=True)
    return path


def test_validate_shows_paths_whole(cli: Invoke, spec: Path) -> None:
    result = cli("validate", str(spec), "--no-kubespray")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"✓ {spec} passes deepctl's checks: ")
    assert lines[1] == f"  inventory: {spec.parent}/.deepctl/lab/inventory (3 files)"


def test_validate_errors_show_values_whole(cli: Invoke, spec: Path) -> None:
    spec.write_text(SPEC.replace('      roles:', '      labels: {a: ":smile:", b: "[red]x[/red]"}\n'
                                 '      roles:'), encoding="utf-8")
    result = cli("validate", str(spec), "--no-kubespray")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert f"{spec}:11:16: spec.hosts[0].labels.a: ':smile:' is not a valid label value " \
           "(at most 63 of A-Z a-z 0-9 - _ .)" in lines
    assert f"{spec}:11:30: spec.hosts[0].labels.b: '[red]x[/red]' is not a valid label value " \
           "(at most 63 of A-Z a-z 0-9 - _ .)" in lines
    as_json = cli("validate", str(spec), "--no-kubespray", "--json")
    problems = json.loads(as_json.stdout)["error"]["problems"]
    assert [p["message"] for p in problems if p["path"].startswith("spec.hosts[0].labels")] == [
        "':smile:' is not a valid label value (at most 63 of A-Z a-z 0-9 - _ .)",
        "'[red]x[/red]' is not a valid label value (at most 63 of A-Z a-z 0-9 - _ .)"]
    assert {p["file"] for p in problems} == {str(spec)}


def test_deploy_dry_run_shows_the_state_directory_whole(cli: Invoke, spec: Path) -> None:
    result = cli("deploy", str(spec), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"  state directory: {spec.parent}/.deepctl/lab" in result.stdout.splitlines()
    as_json = json.loads(cli("deploy", str(spec), "--dry-run", "--json").stdout)
    assert as_json["stateDir"] == f"{spec.parent}/.deepctl/lab"


def test_vars_shows_values_and_addresses_whole(cli: Invoke, spec: Path) -> None:
    result = cli("vars", str(spec))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"  kube_oidc_url = {VALUE}    [kubesprayVars: ") for line in lines)
    # per host, by value: "  NAME = VALUE    on HOSTS"
    assert "  ansible_host = fd00:a:b::1    on cp1" in lines
    assert f"  ansible_ssh_private_key_file = {spec.parent}/{KEY}    on cp1" in lines
    variables = json.loads(cli("vars", str(spec), "--json").stdout)["variables"]
    assert {"kube_oidc_url": VALUE}.items() <= {v["name"]: v["value"] for v in variables}.items()


def test_status_and_runs_show_paths_whole(cli: Invoke, spec: Path) -> None:
    cli("validate", str(spec), "--no-kubespray")  # creates the state directory
    state = spec.parent / ".deepctl" / "lab"
    status = cli("status", str(spec))
    assert status.stdout.splitlines()[0] == (
        f"cluster lab: not deployed (no kubeconfig at {state}/inventory/artifacts/admin.conf; "
        f"run `deepctl deploy {quote(str(spec))}`)")
    runs = cli("runs", str(spec))
    assert runs.stdout.splitlines() == [f"no runs yet in {state}/runs"]


def test_preflight_errors_show_paths_whole(cli: Invoke, spec: Path) -> None:
    for made in (spec.parent / KEY, spec.parent / f"{KEY}.pub"):
        made.unlink()  # the key is missing here: its error names the path
    result = cli("preflight", str(spec))
    assert result.exit_code == 2
    key = spec.parent / KEY
    assert f"{spec}:7:19: spec.ssh.identityFile: SSH key {key} does not exist" in result.stderr
    error = json.loads(cli("preflight", str(spec), "--json").stdout)["error"]
    assert error["problems"][0]["message"].startswith(f"SSH key {key} does not exist")
    # the fix runs as printed: the path with its spaces is one word
    assert f"`ssh-keygen -t ed25519 -f {quote(str(key))}`" in error["hint"]


def test_status_watch_json_hint_names_the_spec_quoted(cli: Invoke, spec: Path) -> None:
    """Issue 22: the hint said `deepctl status SPEC --json` with a literal SPEC."""
    result = cli("status", str(spec), "--watch", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["hint"] == f"for scripts, run `deepctl status {quote(str(spec))} --json` periodically"
    assert quote(str(spec)) != str(spec)  # the folder's name needs quoting
