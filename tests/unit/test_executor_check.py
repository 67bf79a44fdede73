"""Judging what the executor has (pure): Kubespray's pins, ansible-core 2.18, disk space."""

from __future__ import annotations

from deepctl.executor.check import judge, parse_facts, parse_requirements

PINS = parse_requirements("ansible==11.13.0\n# comment\ncryptography==46.0.7\njmespath==1.1.0\n"
                          "netaddr==1.3.0 ; python_version >= '3'\n-r other.txt\n")
GOOD = {"ansible": "11.13.0", "cryptography": "46.0.7", "jmespath": "1.1.0",
        "netaddr": "1.3.0", "ansible-core": "2.18.19"}


def facts(packages: dict[str, str | None], free_kb: str = "9000000", runner: str = "/r") -> str:
    import json

    return (f"runner={runner}\nplaybook=/p\nfree_kb={free_kb}\npython=/py\n"
            f"packages={json.dumps(packages)}\n")


def test_requirements_are_the_pinned_lines() -> None:
    assert PINS == {"ansible": "11.13.0", "cryptography": "46.0.7", "jmespath": "1.1.0",
                    "netaddr": "1.3.0"}


def test_a_ready_executor_has_only_ok_checks() -> None:
    checks = judge(parse_facts(facts(GOOD)), PINS, "executor x")
    assert {c.status for c in checks} == {"ok"}


def test_each_gap_is_an_error_with_the_install_that_fixes_it() -> None:
    have = {**GOOD, "ansible": "10.0.0", "jmespath": None, "ansible-core": "2.17.1"}
    checks = {c.name: c for c in judge(parse_facts(facts(have, free_kb="1024")), PINS, "ex")}
    assert checks["executor.requirements.ansible"].message == (
        "ex: ansible is 10.0.0 beside ansible-runner; Kubespray needs ansible==11.13.0")
    assert "jmespath is not installed" in checks["executor.requirements.jmespath"].message
    assert checks["executor.ansible-core"].status == "error"
    assert checks["executor.disk"].status == "error"
    fix = checks["executor.requirements.ansible"].hint or ""
    assert "pip install ansible-runner ansible==11.13.0 cryptography==46.0.7" in fix


def test_no_ansible_runner_is_one_error_not_a_version_per_package() -> None:
    checks = judge(parse_facts("runner=\nplaybook=\nfree_kb=9000000\n"), PINS, "ex")
    assert [c.name for c in checks if c.status == "error"] == ["executor.runner",
                                                              "executor.ansible"]
