"""Where the Kubespray tree comes from: the spec's path, vendor/kubespray, or a cached clone.

Order: ``spec.kubespray.path`` -> ``vendor/kubespray`` (of the working directory or of the
deepctl source checkout) when populated -> ``~/.cache/deepctl/kubespray/<tag>``, cloned with
``git clone --depth 1 --branch <tag>`` on first need.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from deepctl import KUBESPRAY_COMMIT, KUBESPRAY_TAG
from deepctl.clusterspec.models import Cluster
from deepctl.errors import KubesprayNotFound
from deepctl.kubespray.git import check_tag, clone_argv

KUBESPRAY_REPO = "https://github.com/kubernetes-sigs/kubespray.git"
Source = Literal["spec", "vendor", "cache"]


@dataclass(frozen=True)
class KubesprayTree:
    path: Path
    source: Source
    tag: str

    def playbook(self, name: str) -> Path:
        return self.path / name

    def describe(self) -> str:
        return f"Kubespray {self.tag} from {self.source} ({self.path})"


def is_populated(path: Path) -> bool:
    """A usable Kubespray tree has the entry playbooks deepctl runs and a roles directory."""
    return all(
        (path / name).is_file() for name in ("cluster.yml", "scale.yml", "playbooks/facts.yml")
    ) and (path / "roles").is_dir()


def cache_home() -> Path:
    """deepctl's cache directory (``$XDG_CACHE_HOME/deepctl``, else ``~/.cache/deepctl``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deepctl"


def cache_root() -> Path:
    return cache_home() / "kubespray"


def tree_digest(tree: Path) -> str:
    """The content hash of a Kubespray tree (paths, modes and bytes; ``.git`` left out)."""
    digest = hashlib.sha256()
    for path in sorted(tree.rglob("*")):
        relative = path.relative_to(tree)
        if ".git" in relative.parts or path.is_dir():
            continue
        kind = b"l" if path.is_symlink() else b"x" if os.access(path, os.X_OK) else b"f"
        body = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        digest.update(b"%s\0%s\0%d\0" % (str(relative).encode(), kind, len(body)))
        digest.update(body)
    return digest.hexdigest()


def cache_path(tag: str = KUBESPRAY_TAG) -> Path:
    return cache_root() / tag


def vendor_candidates() -> list[Path]:
    checkout = Path(__file__).resolve().parents[2]  # src/deepctl/.. -> repository root
    candidates = [Path.cwd() / "vendor" / "kubespray", checkout / "vendor" / "kubespray"]
    unique: list[Path] = []
    for path in candidates:
        if path not in unique:
            unique.append(path)
    return unique


def spec_path(cluster: Cluster, spec_dir: Path) -> Path | None:
    path = cluster.spec.kubespray.path
    if path is None:
        return None
    path = path.expanduser()
    return path if path.is_absolute() else (spec_dir / path).resolve()


def find(cluster: Cluster, spec_dir: Path) -> KubesprayTree | None:
    """The Kubespray tree to use, without fetching anything; None if there is none yet."""
    tag = cluster.spec.kubespray.version
    configured = spec_path(cluster, spec_dir)
    if configured is not None:
        if not is_populated(configured):
            raise KubesprayNotFound(
                f"spec.kubespray.path {configured} is not a Kubespray tree (no cluster.yml, "
                "scale.yml, playbooks/facts.yml or roles/)",
                hint="point spec.kubespray.path at a Kubespray checkout, or remove it",
            )
        return KubesprayTree(configured, "spec", tag)
    for candidate in vendor_candidates():
        if is_populated(candidate):
            return KubesprayTree(candidate, "vendor", tag)
    cached = cache_path(tag)
    if is_populated(cached):
        return KubesprayTree(cached, "cache", tag)
    return None


def not_found_error(tag: str, reason: str = "") -> KubesprayNotFound:
    return KubesprayNotFound(
        f"no Kubespray {tag} tree found{': ' + reason if reason else ''}",
        hint=(
            "provide it in one of three ways: set spec.kubespray.path to a Kubespray "
            f"checkout; run `git submodule update --init vendor/kubespray`; or run "
            f"`deepctl kubespray fetch` (clones {tag} into {cache_path(tag)})"
        ),
    )


def fetch(tag: str = KUBESPRAY_TAG, repo: str | None = None) -> KubesprayTree:
    """Clone Kubespray ``tag`` into the cache (shallow); return the tree."""
    target = cache_path(check_tag(tag))  # never a path outside the cache
    if is_populated(target):
        return KubesprayTree(target, "cache", tag)
    git = shutil.which("git")
    if git is None:
        raise not_found_error(tag, "git is not installed, so it cannot be cloned")
    url = repo or os.environ.get("DEEPCTL_KUBESPRAY_REPO", KUBESPRAY_REPO)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        clone_argv(git, tag, url, str(partial)),
        capture_output=True, text=True, check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        detail = (result.stderr.strip().splitlines() or ["git failed"])[-1]
        raise not_found_error(tag, f"cloning {url} failed ({detail})")
    partial.rename(target)
    return KubesprayTree(target, "cache", tag)


def head_commit(tree: KubesprayTree) -> str | None:
    git = shutil.which("git")
    if git is None or not (tree.path / ".git").exists():
        return None
    result = subprocess.run([git, "-C", str(tree.path), "rev-parse", "HEAD"],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def pinned_commit(tag: str) -> str | None:
    return KUBESPRAY_COMMIT if tag == KUBESPRAY_TAG else None
