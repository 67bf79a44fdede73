"""Values that were accepted although wrong (issue 22 §5): each is refused at FILE:LINE:COL with
the spec's own rule, and no message echoes a user value whole (80 characters, then its size)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepctl.clusterspec.loader import load_spec_text
from deepctl.clusterspec.syntax import capped, is_address, is_dns_name, shown, user_problem
from deepctl.errors import SpecError, SpecProblem

SPEC_FILE = Path("/specs/cluster.yaml")
SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab
spec:
  kubernetes:
    dnsDomain: cluster.local
  ssh:
    user: ubuntu
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd]
    - name: wk1
      address: 192.0.2.12
      roles: [worker]
      gpu: true
"""


def problems(text: str) -> list[SpecProblem]:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, SPEC_FILE)
    return info.value.problems


def test_the_base_spec_is_valid() -> None:
    assert load_spec_text(SPEC, SPEC_FILE).warnings == []


@pytest.mark.parametrize(("old", "new", "where", "fragment"), [
    ("address: 192.0.2.11", "address: 10.0.0.300", "12:16: spec.hosts[0].address",
     "'10.0.0.300' is not an IPv4 address (each part is 0-255) nor a DNS name"),
    ("address: 192.0.2.11", "address: 1.2.3", "12:16: spec.hosts[0].address",
     "'1.2.3' is neither an IP address nor a DNS name"),
    ("dnsDomain: cluster.local", "dnsDomain: \"{{ lookup('pipe','id') }}\"",
     "7:16: spec.kubernetes.dnsDomain", "\"{{ lookup('pipe','id') }}\" is not a DNS domain"),
    ("dnsDomain: cluster.local", "dnsDomain: Cluster.Local", "7:16: spec.kubernetes.dnsDomain",
     "is not a DNS domain"),
    ("user: ubuntu", 'user: "$(touch x)"', "9:11: spec.ssh.user",
     "user '$(touch x)' is not a POSIX user name"),
    ("      gpu: true\n", "      gpu: true\n      ssh: {user: 'a b'}\n",
     "18:19: spec.hosts[1].ssh.user", "user 'a b' is not a POSIX user name"),
    ("  ssh:\n    user: ubuntu\n", "  ssh:\n    user: ubuntu\n    bastion: {address: b.lab, "
     "user: '-oProxyCommand=x'}\n", "10:37: spec.ssh.bastion.user",
     "user '-oProxyCommand=x' is not a POSIX user name"),
    ("      roles: [control-plane, etcd]\n", "      roles: [control-plane, etcd]\n      gpu: true\n",
     "14:12: spec.hosts[0].gpu", "host 'cp1' has gpu: true but not the role 'worker'; GPU "
     "hosts must be workers"),
])
def test_accepted_but_wrong_is_refused_at_its_line(old: str, new: str, where: str,
                                                   fragment: str) -> None:
    assert old in SPEC
    found = [p.format() for p in problems(SPEC.replace(old, new, 1))]
    assert any(f.startswith(f"{SPEC_FILE}:{where}: ") and fragment in f for f in found), found


def test_a_5_mb_label_value_is_not_echoed_whole() -> None:
    huge = "v" * (5 * 1024 * 1024)
    text = SPEC.replace("      gpu: true\n", f"      gpu: true\n      labels: {{team: {huge}}}\n")
    (problem,) = problems(text)
    assert problem.path == "spec.hosts[1].labels.team"
    assert f"'{'v' * 79}...' ({len(huge)} characters) is not a valid label value" in \
        problem.message
    assert len(problem.format()) < 300


def test_pydantic_echoes_are_capped_too() -> None:
    text = SPEC.replace("  ssh:\n", f"  ansible:\n    strategy: {'s' * 100_000}\n  ssh:\n")
    (problem,) = problems(text)
    assert problem.path == "spec.ansible.strategy"
    assert "(got 'sssss" in problem.message and "(100000 characters)" in problem.message
    assert len(problem.message) < 400


def test_validators() -> None:
    assert [is_address(a) for a in ("10.0.0.300", "10.0.0.3", "fd00::1", "gpu01.lab",
                                    "GPU01.Lab", "a..b", "-a.lab", "1.2.3.4.5")] == [
        False, True, True, True, True, False, False, False]
    assert [is_dns_name(d) for d in ("cluster.local", "a", "x" * 64, "lab.123", "123.lab")] == [
        True, True, False, False, True]
    assert [user_problem(u) is None for u in ("ubuntu", "svc_deploy", "a.b-c", "_x", "a b",
                                              "$(id)", "-o", ".x", "root;id", "u" * 33)] == [
        True, True, True, True, False, False, False, False, False, False]
    assert shown("short") == "'short'"
    assert shown("x" * 100) == "'" + "x" * 79 + "...' (100 characters)"
    assert capped("x" * 100) == "x" * 80 + "... (100 characters)"
