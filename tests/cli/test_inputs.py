"""Every kind of input a user can name as a spec or a file in it, through the real CLI: a device
(/dev/zero, whose stat size is 0), a FIFO, bash's ``<(...)``, ``-`` for stdin, a caFile.
One read limit for all, refused with a message, never read to the end of memory."""

from __future__ import annotations

import os
import resource
import shlex
import subprocess
import threading

from tests.cli.conftest import DEEPCTL, Invoke, Sandbox
from tests.specs import MINIMAL_SPEC

MEMORY_LIMIT = 1024 * 1024 * 1024  # 1 GiB of address space: /dev/zero read whole would fail


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_validate_dev_zero_is_refused_within_a_memory_limit(sandbox: Sandbox) -> None:
    result = subprocess.run(
        [str(DEEPCTL), "validate", "/dev/zero", "--no-kubespray"], capture_output=True,
        text=True, cwd=sandbox.work, env=sandbox.env(), timeout=120, check=False,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 2, result.stderr
    assert "/dev/zero:1: file too large" in result.stderr
    assert "/dev/zero holds more than 8 MiB; a spec is at most 8 MiB" in result.stderr
    assert "MemoryError" not in result.stderr and "Traceback" not in result.stderr


def test_validate_reads_a_process_substitution(sandbox: Sandbox) -> None:
    spec = sandbox.spec()
    ok = subprocess.run(
        ["bash", "-c", f"{shlex.quote(str(DEEPCTL))} validate <(cat {shlex.quote(str(spec))}) "
         "--no-kubespray --state-dir state"], capture_output=True, text=True,
        cwd=sandbox.work, env=sandbox.env(), timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "passes deepctl's checks" in ok.stdout
    endless = subprocess.run(
        ["bash", "-c", f"{shlex.quote(str(DEEPCTL))} validate <(yes) --no-kubespray"],
        capture_output=True, text=True, cwd=sandbox.work, env=sandbox.env(), timeout=120,
        check=False, preexec_fn=_limit_memory)
    assert endless.returncode == 2, endless.stderr
    assert "holds more than 8 MiB; a spec is at most 8 MiB" in endless.stderr


def test_validate_reads_a_fifo(sandbox: Sandbox, cli: Invoke) -> None:
    fifo = sandbox.work / "spec.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("w", encoding="utf-8") as handle:
            handle.write(MINIMAL_SPEC)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    result = cli("validate", str(fifo), "--no-kubespray", "--state-dir", "state")
    writer.join(5)
    assert result.exit_code == 0, result.output
    assert "passes deepctl's checks" in result.stdout


def test_validate_dash_reads_stdin(cli: Invoke) -> None:
    result = cli("validate", "-", "--no-kubespray", "--state-dir", "state", input=MINIMAL_SPEC)
    assert result.exit_code == 0, result.output
    assert "<stdin> passes deepctl's checks" in result.stdout
    bad = cli("validate", "-", "--no-kubespray", input=MINIMAL_SPEC.replace("lab", "Big_Lab"))
    assert bad.exit_code == 2
    assert "<stdin>:4:9: metadata.name: cluster name 'Big_Lab' is not" in bad.stderr


def test_commands_that_keep_the_spec_refuse_dash(cli: Invoke) -> None:
    result = cli("deploy", "-", "--dry-run", input=MINIMAL_SPEC)
    assert result.exit_code == 2
    assert "works with `deepctl validate` only" in result.stderr


def test_a_ca_file_over_the_limit_is_refused_at_its_line(sandbox: Sandbox, cli: Invoke) -> None:
    ca = sandbox.work / "ca.pem"
    with ca.open("wb") as handle:
        handle.truncate(300 * 1024)  # sparse, larger than any CA bundle
    spec = sandbox.spec(MINIMAL_SPEC + "  offline:\n    files: http://mirror.lab/files\n"
                        "    registry: mirror.lab:5000\n    caFile: ca.pem\n")
    result = cli("validate", str(spec), "--no-kubespray")
    assert result.exit_code == 2, result.output
    assert f"{spec}:15:13: spec.offline.caFile:" in result.stderr
    assert "is 300 KiB; a CA bundle is at most 256 KiB" in result.stderr


HOSTS_YAML = """\
all:
  hosts:
    node1: {ansible_host: 192.0.2.11, ip: 192.0.2.11}
  children:
    kube_control_plane: {hosts: {node1: {}}}
    etcd: {hosts: {node1: {}}}
    kube_node: {hosts: {node1: {}}}
"""


def test_import_reads_a_hosts_file_from_stdin_and_refuses_a_device(sandbox: Sandbox,
                                                                   cli: Invoke) -> None:
    result = cli("import", "-", "-o", "from-stdin.yaml", "--user", "ubuntu",
                 "--identity-file", "/keys/id", input=HOSTS_YAML)
    assert result.exit_code == 0, result.output
    assert "wrote from-stdin.yaml: 1 hosts" in result.stdout
    endless = cli("import", "/dev/zero", "-o", "zero.yaml", "--name", "lab")
    assert endless.exit_code == 2
    assert "/dev/zero holds more than 8 MiB; a hosts file is at most 8 MiB" in endless.stderr
    assert not (sandbox.work / "zero.yaml").exists()
