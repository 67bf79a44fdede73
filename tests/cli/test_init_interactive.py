"""Interactive ``deepctl init`` on a real pseudo-terminal (pexpect): each answer is checked as it
is typed, with the spec's own rules, and asked again with the reason; Ctrl-C at a question exits
130 with no traceback and writes nothing."""

from __future__ import annotations

import pexpect
import pytest

from deepctl.clusterspec.loader import load_spec
from tests.cli.conftest import DEEPCTL, Sandbox


def spawn(sandbox: Sandbox, *args: str) -> pexpect.spawn:
    child = pexpect.spawn(str(DEEPCTL), ["init", *args], cwd=str(sandbox.work),
                          env=sandbox.env(), encoding="utf-8", timeout=60)
    return child


def answer(child: pexpect.spawn, question: str, text: str) -> None:
    child.expect_exact(question)
    child.sendline(text)


def test_each_answer_is_checked_as_typed_and_asked_again(sandbox: Sandbox) -> None:
    child = spawn(sandbox)
    answer(child, "Cluster name [gpu-lab]:", "Big_Name")
    child.expect_exact("Error: cluster name 'Big_Name' is not a lower-case RFC 1123 label")
    answer(child, "Cluster name [gpu-lab]:", "lab")
    answer(child, "Control-plane addresses (space separated):", "")
    child.expect_exact("Error: at least one control-plane address is needed; try again")
    answer(child, "Control-plane addresses (space separated):", "10.0.0.300")
    child.expect_exact("Error: '10.0.0.300' is not an IPv4 address (each part is 0-255)")
    answer(child, "Control-plane addresses (space separated):", "192.0.2.11")
    answer(child, "Worker addresses without GPUs:", "192.0.2.11")
    child.expect_exact("Error: address 192.0.2.11 is given twice; try again")
    answer(child, "Worker addresses without GPUs:", "192.0.2.12")
    answer(child, "GPU worker addresses:", "gpu1.lab")
    answer(child, "SSH user [ubuntu]:", "$(touch x)")
    child.expect_exact("Error: user '$(touch x)' is not a POSIX user name")
    answer(child, "SSH user [ubuntu]:", "deploy")
    answer(child, "SSH private key [~/.ssh/id_ed25519]:", "key: x")
    child.expect_exact("Error: the key path 'key: x' cannot be written into the spec as it is")
    answer(child, "SSH private key [~/.ssh/id_ed25519]:", "")
    child.expect_exact("Wrote cluster.yaml (cluster 'lab', 3 hosts).")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in str(child.before)
    cluster = load_spec(sandbox.work / "cluster.yaml").cluster
    assert (cluster.name, cluster.spec.ssh.user) == ("lab", "deploy")
    assert [(h.name, h.address, h.gpu) for h in cluster.spec.hosts] == [
        ("cp1", "192.0.2.11", False), ("wk1", "192.0.2.12", False), ("gpu1", "gpu1.lab", True)]
    assert not (sandbox.work / "x").exists()


@pytest.mark.parametrize("question", ["Cluster name [gpu-lab]:",
                                      "Control-plane addresses (space separated):"])
def test_ctrl_c_at_a_question_exits_130_without_traceback(sandbox: Sandbox,
                                                          question: str) -> None:
    child = spawn(sandbox)
    if question != "Cluster name [gpu-lab]:":
        answer(child, "Cluster name [gpu-lab]:", "lab")
    child.expect_exact(question + " ")  # the space is input()'s own prompt: it is reading
    output = ""
    for _ in range(3):
        # CPython loses a SIGINT that lands between input()'s prompt and its wait for a key
        # (a person would just press Ctrl-C again): press it again if nothing happened.
        child.sendintr()
        if child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=5) == 0:
            break
        output += str(child.before)
    output += str(child.before)
    child.close()
    assert (child.exitstatus, child.signalstatus) == (130, None), output
    assert "init canceled; nothing was written" in output
    assert "Traceback" not in output and "Aborted" not in output
    assert list(sandbox.work.iterdir()) == []
