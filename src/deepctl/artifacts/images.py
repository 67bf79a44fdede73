"""Images through skopeo: into the mirror's OCI layout, and from it into a registry.

skopeo is the one boundary: its command lines are built by pure functions (tested by list
equality) and run by :func:`run_skopeo`. Each image is copied into its own small layout under
``images/refs/<slug>/`` with every blob in the shared ``images/blobs/`` (so copies can run at
once), then :func:`write_layout_index` makes ``images/`` one OCI layout listing them all.
Registry credentials are never on a command line: skopeo reads them from ``--authfile`` (a
path) or its default auth file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepctl.artifacts.layout import image_slug, normalize_ref
from deepctl.artifacts.skopeo_text import skopeo_cause
from deepctl.errors import ArtifactError
from deepctl.user_input import InputError, read_input

if TYPE_CHECKING:
    from deepctl.artifacts.record import VerifiedRecord

REF_NAME = "org.opencontainers.image.ref.name"
MAX_OCI_JSON_BYTES = 16 * 1024 * 1024  # an index or manifest is a few KiB
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
INSTALL_HINT = ("install skopeo, a distribution package: `apt-get install -y skopeo` "
                "(Debian, Ubuntu) or `dnf install -y skopeo` (RHEL, Fedora), then run the "
                "command again")


@dataclass(frozen=True)
class SkopeoOptions:
    """How skopeo is run: the binary, an auth file, and the architectures to copy."""

    binary: str
    arches: tuple[str, ...] = ("amd64",)
    authfile: Path | None = None
    retries: int = 3
    cert_dir: Path | None = None  # a directory holding the registry's CA as ca.crt
    log: Path | None = None  # where skopeo's own error text is kept in full


def find_skopeo() -> str:
    found = shutil.which("skopeo")
    if found is None:
        raise ArtifactError("skopeo is not installed; deepctl copies images with it",
                            hint=INSTALL_HINT)
    return found


def _arch_args(opts: SkopeoOptions, ref: str) -> list[str]:
    """One architecture: that one; several, or a ref pinned by digest (an index): all."""
    if len(opts.arches) == 1 and "@" not in ref:
        return ["--override-arch", opts.arches[0], "--override-os", "linux"]
    return []


def pull_argv(opts: SkopeoOptions, source: str, layout: Path, ref: str, blobs: Path,
              *, tls_verify: bool) -> list[str]:
    """``skopeo copy docker://SOURCE oci:LAYOUT:REF`` with blobs in the shared directory."""
    argv = [opts.binary, *_arch_args(opts, source), "copy", "--quiet",
            "--retry-times", str(opts.retries)]
    if len(opts.arches) > 1 or "@" in source:
        argv += ["--multi-arch", "all"]
    if opts.authfile is not None:
        argv += ["--src-authfile", str(opts.authfile)]
    if opts.cert_dir is not None:
        argv += ["--src-cert-dir", str(opts.cert_dir)]
    argv += [f"--src-tls-verify={str(tls_verify).lower()}", "--dest-shared-blob-dir", str(blobs),
             f"docker://{source}", f"oci:{layout}:{ref}"]
    return argv


def push_argv(opts: SkopeoOptions, layout: Path, ref: str, target: str,
              *, tls_verify: bool) -> list[str]:
    """``skopeo copy oci:LAYOUT:REF docker://TARGET``, every platform the layout holds."""
    argv = [opts.binary, "copy", "--quiet", "--retry-times", str(opts.retries),
            "--multi-arch", "all"]
    if opts.authfile is not None:
        argv += ["--dest-authfile", str(opts.authfile)]
    if opts.cert_dir is not None:
        argv += ["--dest-cert-dir", str(opts.cert_dir)]
    argv += [f"--dest-tls-verify={str(tls_verify).lower()}", f"oci:{layout}:{ref}",
             f"docker://{target}"]
    return argv


def inspect_raw_argv(opts: SkopeoOptions, target: str, *, tls_verify: bool) -> list[str]:
    """``skopeo inspect --raw docker://TARGET``: the manifest the registry serves."""
    argv = [opts.binary, "inspect", "--raw", "--retry-times", "1"]
    if opts.authfile is not None:
        argv += ["--authfile", str(opts.authfile)]
    if opts.cert_dir is not None:
        argv += ["--cert-dir", str(opts.cert_dir)]
    return [*argv, f"--tls-verify={str(tls_verify).lower()}", f"docker://{target}"]


def registry_digest(opts: SkopeoOptions, target: str, *, tls_verify: bool) -> str | None:
    """The digest of what ``target`` holds now; None if it holds nothing (or cannot say)."""
    result = subprocess.run(inspect_raw_argv(opts, target, tls_verify=tls_verify),
                            capture_output=True, check=False, env={**os.environ, "LC_ALL": "C"})
    if result.returncode != 0 or not result.stdout:
        return None
    return "sha256:" + hashlib.sha256(result.stdout).hexdigest()


def run_skopeo(argv: Sequence[str], what: str, log: Path | None = None) -> None:
    """Run skopeo; on failure raise the cause (its full text goes to ``log`` when given)."""
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False,
                            env={**os.environ, "LC_ALL": "C"})
    if result.returncode != 0:
        if log is not None:
            with contextlib.suppress(OSError), log.open("a", encoding="utf-8") as handle:
                handle.write(f"== {what}\n$ {shlex.join(argv)}\n{result.stderr.rstrip()}\n")
        raise ArtifactError(f"{what}: {skopeo_cause(result.stderr, result.returncode)}")


def refs_dir(images_root: Path) -> Path:
    return images_root / "refs"


def blobs_dir(images_root: Path) -> Path:
    return images_root / "blobs"


def check_layout_path(images_root: Path) -> None:
    if ":" in str(images_root):
        raise ArtifactError(f"{images_root}: skopeo cannot address a directory whose path "
                            "holds ':'", hint="choose a --dest without ':' in its path")


def pull_image(opts: SkopeoOptions, ref: str, source: str, images_root: Path,
               *, tls_verify: bool) -> None:
    """Copy ``source`` into the mirror as ``ref``: into a temporary layout, then renamed."""
    final = refs_dir(images_root) / image_slug(ref)
    partial = final.with_name(f".{final.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    blobs_dir(images_root).mkdir(parents=True, exist_ok=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    argv = pull_argv(opts, source, partial, normalize_ref(ref), blobs_dir(images_root),
                     tls_verify=tls_verify)
    try:
        run_skopeo(argv, f"image {ref} (from {source})", opts.log)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def bytes_on_disk(images_root: Path) -> int:
    """Bytes of every blob in the mirror, and of those skopeo is still writing."""
    total = 0
    partial = refs_dir(images_root).glob(".*.partial/oci-put-blob*")
    for path in [*blobs_dir(images_root).glob("sha256/*"), *partial]:
        with contextlib.suppress(OSError):  # renamed or removed meanwhile
            total += path.stat().st_size
    return total


class GrowthWatcher:
    """Reports, every ``interval`` seconds, the bytes the mirror's images gained (for the bar)."""

    def __init__(self, images_root: Path, on_bytes: Callable[[int], None],
                 interval: float = 0.5) -> None:
        self.images_root = images_root
        self.on_bytes = on_bytes
        self.interval = interval
        self.start_bytes = bytes_on_disk(images_root)
        self._last = self.start_bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pull-image-bytes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._report()

    def _report(self) -> None:
        now = bytes_on_disk(self.images_root)
        if now > self._last:
            self.on_bytes(now - self._last)
            self._last = now

    def stop(self) -> int:
        """Stop watching; return the bytes the image blobs gained in all."""
        self._stop.set()
        self._thread.join()
        self._report()
        gained = sum(p.stat().st_size for p in blobs_dir(self.images_root).glob("sha256/*"))
        return max(gained - self.start_bytes, 0)


def _read_json(path: Path) -> Any:
    """An OCI layout's JSON (index, manifest) in a mirror the user names, or None."""
    try:
        return json.loads(read_input(path, MAX_OCI_JSON_BYTES, "OCI index"))
    except (InputError, ValueError):
        return None


def _blob(blobs: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return blobs / algorithm / hexdigest


@dataclass(frozen=True)
class BlobCheck:
    """How blobs are checked: against their digest (cached in ``record``); ``repair`` removes
    a blob whose content does not match its name, so the next copy fetches it again."""

    record: VerifiedRecord | None = None
    repair: bool = False


def _blob_ok(path: Path, digest: str, check: BlobCheck) -> bool:
    algorithm, _, hexdigest = digest.partition(":")
    if check.record is None:
        return True
    if algorithm != "sha256":
        return False
    if check.record.is_verified(f"images/blobs/sha256/{hexdigest}", path, hexdigest):
        return True
    check.record.forget(f"images/blobs/sha256/{hexdigest}")
    if check.repair:
        path.unlink(missing_ok=True)
    return False


def _complete(blobs: Path, descriptor: dict[str, Any], check: BlobCheck, depth: int = 0) -> bool:
    """Every blob under ``descriptor`` is present with its size (manifests are followed), and
    with ``check.record``, its content matches its digest."""
    digest = str(descriptor.get("digest", ""))
    path = _blob(blobs, digest)
    if depth > 4 or not path.is_file() or path.stat().st_size != descriptor.get("size"):
        return False
    if not _blob_ok(path, digest, check):
        return False
    media = descriptor.get("mediaType", "")
    if depth > 0 and "manifest" not in media and media not in INDEX_TYPES:
        return True
    document = _read_json(path)
    if not isinstance(document, dict):
        return False
    children = list(document.get("manifests", []))
    if "config" in document:
        children.append(document["config"])
    children += document.get("layers", [])
    return all([_complete(blobs, child, check, depth + 1) for child in children])


def image_present(images_root: Path, ref: str, check: BlobCheck | None = None) -> bool:
    """``ref`` was copied completely: its index and every blob it names are there (and, with
    ``check.record``, every blob's content matches its digest)."""
    index = _read_json(refs_dir(images_root) / image_slug(ref) / "index.json")
    if not isinstance(index, dict) or not index.get("manifests"):
        return False
    check = check or BlobCheck()
    return all([_complete(blobs_dir(images_root), m, check) for m in index["manifests"]])


def write_layout_index(images_root: Path) -> list[str]:
    """Make ``images/`` one OCI layout of every copied image; return their refs."""
    manifests: dict[str, dict[str, Any]] = {}
    for index_file in sorted(refs_dir(images_root).glob("*/index.json")):
        index = _read_json(index_file)
        for entry in index.get("manifests", []) if isinstance(index, dict) else []:
            name = entry.get("annotations", {}).get(REF_NAME)
            if name:
                manifests[name] = entry
    document = {"schemaVersion": 2, "manifests": [manifests[k] for k in sorted(manifests)]}
    _write_atomic(images_root / "index.json", json.dumps(document, indent=1) + "\n")
    _write_atomic(images_root / "oci-layout", '{"imageLayoutVersion": "1.0.0"}\n')
    return sorted(manifests)


def layout_digests(images_root: Path) -> dict[str, str]:
    """Each image ref the mirror's OCI layout holds, with its manifest digest."""
    index = _read_json(images_root / "index.json")
    if not isinstance(index, dict):
        return {}
    found = {m.get("annotations", {}).get(REF_NAME): str(m.get("digest"))
             for m in index.get("manifests", [])}
    return {ref: found[ref] for ref in sorted(r for r in found if r)}




def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
