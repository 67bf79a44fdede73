"""Rules on ``spec.verify``: its groups name hosts of the spec with GPUs."""

from __future__ import annotations

from collections.abc import Iterator

from deepctl.clusterspec.finding import Finding, did_you_mean
from deepctl.clusterspec.models import Cluster


def check_verify(cluster: Cluster) -> Iterator[Finding]:
    hosts = {h.name: h for h in cluster.spec.hosts}
    for group, members in cluster.spec.verify.groups.items():
        for i, name in enumerate(members):
            path = ("spec", "verify", "groups", group, i)
            host = hosts.get(name)
            if host is None:
                yield Finding(path, f"{name!r} is not a host of this spec"
                              f"{did_you_mean(name, set(hosts))}")
            elif not host.gpu:
                yield Finding(path, f"{name!r} has no GPUs (gpu: true): the group's multi-node "
                              "all-reduce runs on GPU hosts only", "warning")
