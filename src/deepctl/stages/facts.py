"""Stage ``facts``: Kubespray's ``playbooks/facts.yml`` on every host.

``scale.yml --limit NEW`` templates the other hosts' addresses from their facts, so add-node
gathers them all first (Kubespray v2.31.0, docs/operations/nodes.md). It changes nothing.

From :data:`~deepctl.clusterspec.kubespray_map.LARGE_CLUSTER_HOSTS` hosts up, add-node gathers facts
only of the new host and of the hosts whose cached facts (the run's jsonfile fact cache,
kept :data:`FACT_CACHE_MAX_AGE_S`, ansible.cfg's ``fact_caching_timeout``) are missing or
expired: ``--limit`` to those, the others' facts come from the cache, as Kubespray requires.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from deepctl.clusterspec.kubespray_map import large_cluster
from deepctl.stages.context import StageContext
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.stage import Stage, every_host, named

PLAYBOOK = "playbooks/facts.yml"
FACT_CACHE_MAX_AGE_S = 86400  # ansible.cfg's fact_caching_timeout (ansible/settings.py)


def _facts(ctx: StageContext) -> None:
    ctx.ansible.run("facts", PLAYBOOK)


FACTS = Stage(
    "facts", "Gather facts of every host (Kubespray playbooks/facts.yml)",
    lambda c: f"ansible-playbook playbooks/facts.yml on {len(c.spec.hosts)} host(s); changes "
    "nothing",
    run=_facts, after=("preflight",), hosts=every_host, playbook=PLAYBOOK, inputs=tree_inputs,
)


def hosts_needing_facts(fact_cache: Path, hosts: Sequence[str], now: float,
                        max_age_s: float = FACT_CACHE_MAX_AGE_S) -> list[str]:
    """The ``hosts`` whose cached facts are missing or older than ``max_age_s``."""
    out = []
    for host in hosts:
        try:
            age = now - (fact_cache / host).stat().st_mtime
        except OSError:
            out.append(host)
            continue
        if age >= max_age_s:
            out.append(host)
    return out


def facts_limit(ctx: StageContext, new_hosts: tuple[str, ...]) -> str | None:
    """``--limit`` for add-node's facts: None (every host) below the large-cluster size or
    when every host needs gathering; else the new hosts and the hosts without cached facts."""
    hosts = [h.name for h in ctx.cluster.spec.hosts]
    if not large_cluster(ctx.cluster):
        return None
    needed = dict.fromkeys([*new_hosts, *hosts_needing_facts(ctx.ws.state.fact_cache, hosts,
                                                             time.time())])
    if set(hosts) <= set(needed):
        return None
    return ",".join(needed)


def facts_for_new_hosts(names: tuple[str, ...]) -> Stage:
    """add-node's ``facts``: every host's facts, gathered or (large clusters) cached."""
    name = named(names)

    def run(ctx: StageContext) -> None:
        limit = facts_limit(ctx, names)
        every = [h.name for h in ctx.cluster.spec.hosts]
        ctx.ansible.run("facts", PLAYBOOK, limit=limit,
                        spread=limit.split(",") if limit else every)

    return Stage(
        "facts", FACTS.title,
        lambda c: f"ansible-playbook playbooks/facts.yml on {len(c.spec.hosts)} host(s); changes "
        "nothing" if not large_cluster(c) else
        f"ansible-playbook playbooks/facts.yml --limit {name} and the hosts without cached facts "
        f"({len(c.spec.hosts)} hosts: the others' facts come from the cache); changes nothing",
        run=run, after=("preflight",), hosts=every_host, playbook=PLAYBOOK, inputs=tree_inputs,
    )
