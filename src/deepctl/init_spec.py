"""``deepctl init``: write a commented spec that validates, from flags or an example preset."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from deepctl import KUBESPRAY_TAG
from deepctl.clusterspec.loader import load_spec_text
from deepctl.clusterspec.syntax import address_problem, capped, label_problem, shown, user_problem
from deepctl.errors import SpecError, UsageError
from deepctl.fsutil import atomic_write
from deepctl.kubespray.release import load_release
from deepctl.templates import render

Example = Literal["single-node", "ha", "gpu-cluster"]
EXAMPLES: tuple[Example, ...] = ("single-node", "ha", "gpu-cluster")


@dataclass
class InitHost:
    name: str
    address: str
    roles: list[str]
    gpu: bool = False
    internal_address: str | None = None


@dataclass
class InitOptions:
    name: str = "gpu-lab"
    control_planes: list[str] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    gpu_workers: list[str] = field(default_factory=list)
    user: str = "ubuntu"
    identity_file: str = "~/.ssh/id_ed25519"
    gpu: bool = True
    load_balancer: str | None = None


def example_options(example: Example) -> tuple[InitOptions, list[InitHost]]:
    """The presets behind ``--example`` (addresses are documentation ranges, never contacted)."""
    if example == "single-node":
        opts = InitOptions(name="single-node", gpu=False)
        return opts, [InitHost("node1", "192.0.2.10", ["control-plane", "etcd", "worker"])]
    if example == "ha":
        opts = InitOptions(name="ha-cluster", gpu=False, load_balancer="192.0.2.10")
        hosts = [
            InitHost(f"cp{i}", f"192.0.2.1{i}", ["control-plane", "etcd"],
                     internal_address=f"10.0.0.1{i}")
            for i in (1, 2, 3)
        ] + [
            InitHost(f"wk{i}", f"192.0.2.2{i}", ["worker"], internal_address=f"10.0.0.2{i}")
            for i in (1, 2, 3)
        ]
        return opts, hosts
    opts = InitOptions(name="gpu-cluster", gpu=True)
    hosts = [InitHost("cp1", "192.0.2.11", ["control-plane", "etcd"])] + [
        InitHost(f"gpu{i}", f"192.0.2.3{i}", ["worker"], gpu=True) for i in (1, 2, 3, 4)
    ]
    return opts, hosts


def hosts_from_options(opts: InitOptions) -> list[InitHost]:
    """Name hosts cpN / wkN / gpuN; etcd on the largest odd number of control planes."""
    if not opts.control_planes:
        raise UsageError(
            "at least one --control-plane ADDRESS is needed",
            hint="e.g. deepctl init --control-plane 192.0.2.11 --gpu-worker 192.0.2.31",
        )
    etcd_count = len(opts.control_planes) - (1 - len(opts.control_planes) % 2)
    only_cp = not opts.workers and not opts.gpu_workers
    hosts = []
    for i, address in enumerate(opts.control_planes, start=1):
        roles = ["control-plane"] + (["etcd"] if i <= etcd_count else [])
        if only_cp:
            roles.append("worker")
        hosts.append(InitHost(f"cp{i}", address, roles))
    hosts += [InitHost(f"wk{i}", a, ["worker"]) for i, a in enumerate(opts.workers, start=1)]
    hosts += [
        InitHost(f"gpu{i}", a, ["worker"], gpu=True)
        for i, a in enumerate(opts.gpu_workers, start=1)
    ]
    return hosts


PLAIN_HINT = "use a plain value: no newlines, ':', '#', quotes or YAML syntax"


def plain_problem(flag: str, value: str) -> str | None:
    """Why ``value`` would not stay one plain YAML value in the written spec, or None."""
    try:
        same = yaml.safe_load(f"k: {value}") == {"k": value}
    except yaml.YAMLError:
        same = False
    if not same or "#" in value:
        return f"{flag} {shown(value)} cannot be written into the spec as it is"
    return None


def check_plain(flag: str, value: str) -> None:
    """Refuse a flag value that would not stay one plain YAML value in the written spec."""
    problem = plain_problem(flag, value)
    if problem is not None:
        raise UsageError(problem, hint=PLAIN_HINT)


def split_answer(answer: str) -> list[str]:
    """Pure: "a, b c" -> ["a", "b", "c"] (commas or spaces between addresses)."""
    return [part for part in answer.replace(",", " ").split() if part]


def name_answer_problem(value: str) -> str | None:
    """Why an answer to "Cluster name" is refused (the spec's own rule), or None."""
    return label_problem(value, "cluster name") or plain_problem("the name", value)


def user_answer_problem(value: str) -> str | None:
    """Why an answer to "SSH user" is refused (the spec's own rule), or None."""
    return user_problem(value) or plain_problem("the user", value)


def key_answer_problem(value: str) -> str | None:
    """Why an answer to "SSH private key" is refused, or None."""
    if not value:
        return "give the path of a private key file"
    return plain_problem("the key path", value)


def addresses_answer_problem(addresses: list[str], taken: list[str], *, required: bool
                             ) -> str | None:
    """Why a list of addresses is refused (the spec's own rules), or None."""
    if required and not addresses:
        return "at least one control-plane address is needed"
    seen = list(taken)
    for address in addresses:
        problem = address_problem(address) or plain_problem("the address", address)
        if problem is not None:
            return problem
        if address in seen:
            return f"address {capped(address)} is given twice"
        seen.append(address)
    return None


def render_spec(opts: InitOptions, hosts: list[InitHost], filename: str) -> str:
    for flag, value in (("--name", opts.name), ("--user", opts.user),
                        ("--identity-file", opts.identity_file)):
        check_plain(flag, value)
    for host in hosts:
        check_plain("address", host.address)
    release = load_release()
    gpu = opts.gpu and any(h.gpu for h in hosts)
    return render(
        "init/cluster.yaml.j2",
        name=opts.name,
        filename=filename,
        kubespray_tag=KUBESPRAY_TAG,
        kube_version=release.default_kube_version,
        load_balancer=opts.load_balancer,
        user=opts.user,
        identity_file=opts.identity_file,
        hosts=hosts,
        gpu=gpu,
    )


def write_spec(output: Path, text: str, *, force: bool) -> None:
    """Validate ``text`` as a spec, then write it; refuse to overwrite unless ``force``."""
    if output.exists() and not force:
        raise UsageError(f"{output} already exists", hint="pass --force to overwrite it")
    try:
        load_spec_text(text, output)  # what init writes always validates
    except SpecError as error:
        found = "; ".join(f"{p.path}: {p.message}" if p.path else p.message
                          for p in error.problems)
        raise UsageError(
            f"the options do not make a valid spec ({found}); nothing was written",
            hint="fix the addresses or names given on the command line",
        ) from None
    atomic_write(output, text, 0o644)
