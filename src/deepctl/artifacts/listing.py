"""``deepctl artifacts list``: exactly the files, images and charts one spec needs.

- files and Kubespray's images: Kubespray's own ``downloads``, evaluated by Ansible for this
  spec's inventory (:mod:`deepctl.artifacts.kubespray_items`), plus the kube-* images
  kubeadm pulls; always the upstream locations, even when ``spec.offline`` is set (the list
  says what to put *into* the mirror; ``path`` says where);
- addon images: the generated image data of each enabled release's pinned chart
  (:mod:`deepctl.addons.chart_images`);
- charts: every enabled release's chart, version and upstream repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from deepctl.addons.chart_images import addon_images, driver_os_tag
from deepctl.addons.decisions import DCGM_IMAGE, NCCL_TESTS_IMAGE, SMOKE_IMAGE
from deepctl.addons.registry import ADDONS
from deepctl.artifacts.kubespray_items import Download, evaluate_downloads
from deepctl.artifacts.model import ArtifactList, ChartArtifact, FileArtifact, ImageArtifact
from deepctl.clusterspec.models import Cluster
from deepctl.errors import UsageError
from deepctl.kubespray.source import KubesprayTree
from deepctl.kubevars.offline import mirror_path, qualify_image


def upstream(cluster: Cluster) -> Cluster:
    """``cluster`` without ``spec.offline``: where everything comes from on the internet."""
    return cluster.model_copy(update={"spec": cluster.spec.model_copy(update={"offline": None})})


def files_of(downloads: Iterable[Download]) -> tuple[FileArtifact, ...]:
    return tuple(
        FileArtifact(name=d.name, url=d.url, sha256=d.checksum, path=mirror_path(d.url))
        for d in downloads if not d.container and d.url
    )


def _unique(refs: Iterable[str]) -> tuple[ImageArtifact, ...]:
    return tuple(ImageArtifact(ref) for ref in dict.fromkeys(refs))


def addon_charts(cluster: Cluster) -> tuple[ChartArtifact, ...]:
    charts = {
        (r.chart.name, r.version(cluster)): ChartArtifact(r.chart.name, r.version(cluster), r.chart.repo_url)
        for addon in ADDONS for r in addon.active_releases(cluster)
    }
    return tuple(charts.values())


def deepctl_images(cluster: Cluster) -> list[str]:
    """Images deepctl itself runs: ``verify``'s GPU smoke Job, DCGM diagnostics and NCCL
    all-reduce (every level, as ``deepctl verify --level`` may ask for any)."""
    if not (cluster.spec.addons.gpu.enabled and cluster.gpu_hosts):
        return []
    return [SMOKE_IMAGE, DCGM_IMAGE, NCCL_TESTS_IMAGE]


def build_list(
    cluster: Cluster, downloads: Iterable[Download], driver_os: Iterable[str] = ()
) -> ArtifactList:
    """The list from Kubespray's evaluated downloads and the addon data (pure)."""
    items = list(downloads)
    kubespray_images = [qualify_image(d.image) for d in items if d.container and d.repo and d.tag]
    return ArtifactList(
        files=files_of(items),
        images=_unique([*kubespray_images, *addon_images(cluster, driver_os), *deepctl_images(cluster)]),
        charts=addon_charts(cluster),
    )


OS_TAG = re.compile(r"^[a-z]+[0-9]+(?:\.[0-9]+)*$")


def host_dependent(cluster: Cluster) -> bool:
    """An image tag depends on the hosts: the GPU Operator's driver image names their OS."""
    gpu = cluster.spec.addons.gpu
    return bool(gpu.enabled) and gpu.driver.install and bool(cluster.gpu_hosts)


def os_unknown(cluster: Cluster, host_os: Mapping[str, Mapping[str, str]],
               stated_os: Sequence[str]) -> list[str]:
    """The GPU hosts whose OS the list needs and nobody gave (none with ``--os``)."""
    if not host_dependent(cluster) or stated_os:
        return []
    return [h.name for h in cluster.gpu_hosts if h.name not in host_os]


def check_os_tags(stated_os: Sequence[str]) -> None:
    for tag in stated_os:
        if not OS_TAG.match(tag):
            raise UsageError(f"--os {tag!r} is not an OS tag like ubuntu24.04 or rhel9.6 "
                             "(ID and VERSION_ID of /etc/os-release)")


def list_artifacts(
    cluster: Cluster,
    tree: KubesprayTree,
    *,
    architectures: Mapping[str, str] | None = None,
    host_os: Mapping[str, Mapping[str, str]] | None = None,
    stated_os: Sequence[str] = (),
) -> ArtifactList:
    """What ``cluster`` needs.

    ``architectures``: host name -> ``uname -m`` (default x86_64 for every host);
    ``host_os``: host name -> its ``/etc/os-release`` (preflight's saved facts), which names the
    GPU Operator's driver image when the operator installs the driver; ``stated_os``: OS tags
    (``ubuntu24.04``) given instead, for every GPU host.
    """
    source = upstream(cluster)
    known = host_os or {}
    driver_os = list(stated_os) or [driver_os_tag(known[h.name]) for h in source.gpu_hosts
                                    if h.name in known]
    return build_list(source, evaluate_downloads(source, tree, architectures), driver_os)
