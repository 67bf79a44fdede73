"""``--strict`` means one thing in every command (warnings are errors), a CPU-only spec passes
it, and ``validate`` names an identityFile that is not on this machine, as preflight would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from deepctl.cli.application import app
from deepctl.cli.commands.preflight import exit_code
from deepctl.errors import ExitCode
from tests.cli.conftest import Invoke, Sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CPU_ONLY = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab
spec:
  ssh:
    identityFile: KEY
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd, worker]
"""


@pytest.fixture
def key(sandbox: Sandbox) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    (sandbox.home / ".ssh").mkdir(mode=0o700)
    path = sandbox.home / ".ssh" / "id_ed25519"  # the default identityFile
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def test_validate_reports_a_missing_identity_file_at_its_line(sandbox: Sandbox, cli: Invoke
                                                              ) -> None:
    missing = sandbox.home / "no-such-key"
    spec = sandbox.spec(CPU_ONLY.replace("KEY", str(missing)))
    relaxed = cli("validate", str(spec), "--no-kubespray")
    assert relaxed.exit_code == 0, relaxed.output
    assert (f"{spec}:7:19: warning: spec.ssh.identityFile: SSH key {missing} does not exist; "
            f"fix: point identityFile at your private key, or create one with `ssh-keygen -t "
            f"ed25519 -f {missing}`") in relaxed.stdout
    strict = cli("validate", str(spec), "--no-kubespray", "--strict")
    assert strict.exit_code == 2
    assert f"{spec}:7:19: spec.ssh.identityFile: SSH key {missing} does not exist" in strict.stderr


@pytest.mark.parametrize("source", ["single-node.yaml", "cpu-only"])
def test_a_cpu_only_spec_passes_strict(sandbox: Sandbox, cli: Invoke, key: Path,
                                       source: str) -> None:
    if source == "cpu-only":  # no addons section at all: the GPU addon follows the hosts
        spec = sandbox.spec(CPU_ONLY.replace("KEY", str(key)))
    else:
        spec = sandbox.spec((EXAMPLES / source).read_text(encoding="utf-8"), name=source)
    result = cli("validate", str(spec), "--no-kubespray", "--strict")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert "0 with GPUs" in result.stdout


WARNING_SPEC = CPU_ONLY + "  addons:\n    gpu: {enabled: true}\n"  # enabled, no GPU host


@pytest.mark.parametrize("command", [["validate", "--no-kubespray"], ["deploy", "--dry-run"],
                                     ["preflight"]])
def test_strict_makes_a_spec_warning_an_error_in_every_command(
        sandbox: Sandbox, cli: Invoke, key: Path, command: list[str]) -> None:
    spec = sandbox.spec(WARNING_SPEC.replace("KEY", str(key)))
    relaxed_args = [command[0], str(spec), *command[1:]]
    if command[0] != "preflight":  # preflight without --strict would connect to 192.0.2.11
        relaxed = cli(*relaxed_args)
        assert relaxed.exit_code == 0, relaxed.output
    strict = cli(*relaxed_args, "--strict")
    assert strict.exit_code == 2, strict.output
    assert (f"{spec}:13:20: spec.addons.gpu.enabled: the GPU addon is enabled but no host has "
            "'gpu: true'") in strict.stderr
    assert "(warning, error under --strict)" in strict.stderr


def test_preflight_strict_fails_on_host_warnings_as_on_errors() -> None:
    class Report:
        def __init__(self, errors: bool, warnings: bool) -> None:
            self.has_errors, self.has_warnings = errors, warnings

    codes = {(e, w, s): exit_code(Report(e, w), s)  # type: ignore[arg-type]
             for e in (False, True) for w in (False, True) for s in (False, True)}
    assert codes[(False, True, False)] == ExitCode.OK
    assert codes[(False, True, True)] == ExitCode.PREFLIGHT  # warnings are errors
    assert codes[(True, False, False)] == ExitCode.PREFLIGHT
    assert codes[(False, False, True)] == ExitCode.OK


def test_every_strict_option_has_one_help_text() -> None:
    import typer.main

    command = typer.main.get_command(app)
    helps = set()
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        for param in sub.params:
            if "--strict" in getattr(param, "opts", []):
                helps.add((param.help,))
                assert name in ("validate", "preflight", "deploy"), name
    assert len(helps) == 1
    assert next(iter(helps))[0].startswith("Warnings are errors")


def test_deploy_strict_fails_its_preflight_stage_on_a_host_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """deploy --strict: the preflight stage treats a host warning as an error (exit 3), and
    it is not skipped as up to date after a relaxed run that passed with that warning."""
    from types import SimpleNamespace

    import deepctl.preflight
    from deepctl.errors import PreflightFailed
    from deepctl.preflight.model import Finding
    from deepctl.stages.preflight import preflight_inputs, run_checks

    warning = Finding("cp1", "resources", "resources.memory", "warning", "4 GiB of memory")
    report = SimpleNamespace(findings=[warning], has_errors=False, has_warnings=True)
    monkeypatch.setattr(deepctl.preflight, "run_preflight", lambda *a, **k: report)
    logged: list[str] = []

    def ctx(params: dict[str, object]) -> SimpleNamespace:
        spec = SimpleNamespace(path=Path("/specs/cluster.yaml"))
        return SimpleNamespace(ws=SimpleNamespace(spec=spec), accept_new_hosts=False,
                               params=params, record=SimpleNamespace(log=logged.append))

    assert run_checks(ctx({})) is report  # type: ignore[arg-type]
    with pytest.raises(PreflightFailed) as info:
        run_checks(ctx({"strict": True}))  # type: ignore[arg-type]
    assert info.value.exit_code == ExitCode.PREFLIGHT
    assert "--strict treats warnings as errors" in info.value.message
    assert "cp1: 4 GiB of memory" in info.value.message
    assert "deepctl preflight /specs/cluster.yaml --strict" in str(info.value.hint)
    from deepctl.clusterspec.loader import load_spec_text

    cluster = load_spec_text(CPU_ONLY.replace("KEY", "/k"), Path("/specs/c.yaml")).cluster
    relaxed = SimpleNamespace(cluster=cluster, params={})
    strict = SimpleNamespace(cluster=cluster, params={"strict": True})
    assert preflight_inputs(relaxed) != preflight_inputs(strict)  # type: ignore[arg-type]
