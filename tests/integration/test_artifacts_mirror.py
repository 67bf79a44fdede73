"""`artifacts pull` of files and charts from a real loopback HTTP upstream (files_repo layout)."""

from __future__ import annotations

import dataclasses
import json
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from deepctl.artifacts.model import ArtifactList, ChartArtifact, FileArtifact
from deepctl.artifacts.progress import ItemResult, SilentReporter
from deepctl.artifacts.pull import PullOptions, pull
from deepctl.errors import ArtifactError, UsageError
from tests.mirror_support import LoopbackUpstream, write_tiny_chart, write_upstream_files


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[tuple[LoopbackUpstream, list[FileArtifact]]]:
    root = tmp_path / "upstream"
    files = write_upstream_files(root, 12, size=3000)
    server = LoopbackUpstream(root)
    try:
        yield server, files
    finally:
        server.close()


def only_files(files: list[FileArtifact]) -> ArtifactList:
    return ArtifactList(files=tuple(files), images=(), charts=())


def test_files_land_in_the_files_repo_layout_and_a_second_pull_downloads_nothing(
    tmp_path: Path, upstream: tuple[LoopbackUpstream, list[FileArtifact]]
) -> None:
    server, files = upstream
    opts = PullOptions(dest=tmp_path / "mirror", files_from=server.url, workers=4)

    first = pull(only_files(files), opts)

    assert first.count("file", "fetched") == 12 and not first.failures
    for artifact in files:
        mirrored = tmp_path / "mirror" / "files" / artifact.path
        assert mirrored.read_bytes() == (tmp_path / "upstream" / artifact.path).read_bytes()
    assert sorted(server.requests) == sorted(f"/{f.path}" for f in files)
    asked = len(server.requests)

    second = pull(only_files(files), opts)

    assert second.count("file", "skipped") == 12 and second.transferred() == 0
    assert len(server.requests) == asked  # nothing asked of the upstream


def test_a_wrong_checksum_is_refused_naming_the_file_and_nothing_is_kept(
    tmp_path: Path, upstream: tuple[LoopbackUpstream, list[FileArtifact]]
) -> None:
    server, files = upstream
    bad = dataclasses.replace(files[3], sha256="0" * 64)
    listed = only_files([*files[:3], bad, *files[4:]])

    summary = pull(listed, PullOptions(dest=tmp_path / "mirror", files_from=server.url))

    [failure] = summary.failures
    assert failure.name == bad.path
    assert (failure.error or "").startswith(f"checksum mismatch, expected sha256 {'0' * 64}")
    assert failure.size == 3000 and summary.rejected() == 3000  # fetched, then rejected
    assert "the file was not kept" in (failure.error or "")
    target = tmp_path / "mirror" / "files" / bad.path
    assert not target.exists()
    assert not [p for p in target.parent.iterdir() if ".part-" in p.name]  # no temp left
    assert summary.count("file", "fetched") == 11


def test_a_stopped_pull_resumes_with_only_what_is_missing_or_altered(
    tmp_path: Path, upstream: tuple[LoopbackUpstream, list[FileArtifact]]
) -> None:
    server, files = upstream
    opts = PullOptions(dest=tmp_path / "mirror", files_from=server.url)
    pull(only_files(files), opts)
    (tmp_path / "mirror" / "files" / files[0].path).unlink()
    (tmp_path / "mirror" / "files" / files[1].path).write_bytes(b"tampered")
    server.requests.clear()

    summary = pull(only_files(files), opts)

    assert sorted(server.requests) == sorted([f"/{files[0].path}", f"/{files[1].path}"])
    assert summary.count("file", "fetched") == 2 and summary.count("file", "skipped") == 10


def test_a_file_without_a_checksum_is_kept_and_not_fetched_twice(
    tmp_path: Path, upstream: tuple[LoopbackUpstream, list[FileArtifact]]
) -> None:
    server, files = upstream
    unchecked = dataclasses.replace(files[0], sha256=None)
    opts = PullOptions(dest=tmp_path / "mirror", files_from=server.url)
    assert pull(only_files([unchecked]), opts).count("file", "fetched") == 1
    assert pull(only_files([unchecked]), opts).count("file", "skipped") == 1
    assert len(server.requests) == 1


def test_a_source_that_refuses_connections_is_said_once_before_any_item(tmp_path: Path) -> None:
    """Issue 22 §4: not one error per item after retries, one message at once."""
    files = write_upstream_files(tmp_path / "nowhere", 21)
    seen = RecordingDone()
    with pytest.raises(ArtifactError) as caught:
        pull(only_files(files), PullOptions(dest=tmp_path / "m", files_from="http://127.0.0.1:9"),
             seen)
    assert caught.value.message == ("the files source (--files-from) at 127.0.0.1:9 is "
                                    "unreachable (Connection refused); nothing was tried from it")
    assert seen.results == []  # no item was tried
    assert not (tmp_path / "m" / "files").exists()


class RecordingDone(SilentReporter):
    def __init__(self) -> None:
        self.results: list[ItemResult] = []

    def done(self, result: ItemResult) -> None:
        self.results.append(result)


def test_charts_come_from_a_helm_repository_index_and_the_mirror_is_one_too(
    tmp_path: Path,
) -> None:
    from deepctl.artifacts.charts import write_repo_index

    repo = tmp_path / "helm-repo"
    write_tiny_chart(repo / "packages", "tiny", "1.2.3")
    write_tiny_chart(repo / "packages", "other", "0.1.0")
    write_repo_index(repo / "packages")
    (repo / "index.yaml").write_text(
        (repo / "packages" / "index.yaml").read_text().replace("- tiny-", "- packages/tiny-")
        .replace("- other-", "- packages/other-"))
    server = LoopbackUpstream(repo)
    try:
        listed = ArtifactList((), (), (ChartArtifact("tiny", "1.2.3", server.url),))
        summary = pull(listed, PullOptions(dest=tmp_path / "mirror"))
        again = pull(listed, PullOptions(dest=tmp_path / "mirror"))
    finally:
        server.close()

    assert summary.count("chart", "fetched") == 1 and not summary.failures
    assert again.count("chart", "skipped") == 1
    assert "/packages/tiny-1.2.3.tgz" in server.requests
    index = yaml.safe_load((tmp_path / "mirror" / "charts" / "index.yaml").read_text())
    [entry] = index["entries"]["tiny"]
    assert entry["version"] == "1.2.3" and entry["urls"] == ["tiny-1.2.3.tgz"]


def test_charts_from_a_plain_mirror_directory_without_an_index(tmp_path: Path) -> None:
    write_tiny_chart(tmp_path / "charts", "tiny", "1.0.0")
    server = LoopbackUpstream(tmp_path / "charts")
    try:
        listed = ArtifactList((), (), (ChartArtifact("tiny", "1.0.0", "oci://ghcr.example/x"),))
        summary = pull(listed, PullOptions(dest=tmp_path / "mirror", charts_from=server.url))
    finally:
        server.close()
    assert summary.count("chart", "fetched") == 1, summary.failures
    assert (tmp_path / "mirror" / "charts" / "tiny-1.0.0.tgz").is_file()


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (dict(files_from="ftp://x/files"), "--files-from 'ftp://x/files' must be an http"),
        (dict(images_from="http://reg:5000"), "without a scheme"),
        (dict(insecure_registry=True), "--insecure-registry applies to --images-from"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(
    tmp_path: Path, opts: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        pull(ArtifactList((), (), ()), PullOptions(dest=tmp_path / "m", **opts))  # type: ignore[arg-type]
    assert not (tmp_path / "m").exists()


def test_a_path_that_would_leave_the_mirror_is_refused(tmp_path: Path) -> None:
    evil = FileArtifact("x", "http://127.0.0.1:9/x", None, "../../etc/x")
    summary = pull(only_files([evil]), PullOptions(dest=tmp_path / "m"))
    [failure] = summary.failures
    assert "would leave the mirror directory" in (failure.error or "")


def test_ctrl_c_stops_the_pull_keeps_what_was_verified_and_a_rerun_resumes(tmp_path: Path) -> None:
    files = write_upstream_files(tmp_path / "upstream", 40)
    server = LoopbackUpstream(tmp_path / "upstream", delay_s=0.1)
    opts = PullOptions(dest=tmp_path / "mirror", files_from=server.url, workers=2)
    main = threading.get_ident()
    timer = threading.Timer(0.5, lambda: signal.pthread_kill(main, signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            pull(only_files(files), opts)
        asked = len(server.requests)
        time.sleep(0.3)
        assert len(server.requests) == asked < 40  # stopped, and nothing more is asked
        kept = [f for f in files if (tmp_path / "mirror" / "files" / f.path).exists()]
        assert kept and "verified" in (tmp_path / "mirror" / "manifest.json").read_text()
        assert not list((tmp_path / "mirror").rglob("*.part-*"))

        resumed = pull(only_files(files), opts)
    finally:
        timer.cancel()
        server.close()
    assert resumed.count("file", "skipped") == len(kept)
    assert resumed.count("file", "fetched") == 40 - len(kept)


class _TokenRegistryStandin(BaseHTTPRequestHandler):
    """A loopback stand-in for a public registry's anonymous bearer-token challenge."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_HEAD(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") == "Bearer anon-token":
            self.send_response(200)
        else:
            host, port = self.server.server_address[:2]
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Bearer realm="http://{host!s}:{port}/token",'
                             'service="reg.test",scope="repository:charts/x:pull"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.seen.append((self.path, None))
        body = json.dumps({"token": "anon-token"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_oci_registry_asking_for_a_bearer_token_gets_an_anonymous_one() -> None:
    from deepctl.artifacts.charts import _auth_headers

    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenRegistryStandin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v2/charts/x/manifests/1.0.0"
        assert _auth_headers(url) == {"Authorization": "Bearer anon-token"}
    finally:
        server.shutdown()
        server.server_close()
    token_path = "/token?service=reg.test&scope=repository%3Acharts%2Fx%3Apull"
    assert (token_path, None) in _TokenRegistryStandin.seen


def test_an_item_listed_twice_is_fetched_once(
    tmp_path: Path, upstream: tuple[LoopbackUpstream, list[FileArtifact]]
) -> None:
    server, files = upstream
    summary = pull(only_files([files[0], files[0], files[1]]),
                   PullOptions(dest=tmp_path / "m", files_from=server.url))
    assert [r.name for r in summary.results] == [files[0].path, files[1].path]
    assert len(server.requests) == 2


def test_a_destination_that_cannot_be_written_is_refused_up_front(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ArtifactError, match="cannot write the mirror there"):
        pull(ArtifactList((), (), ()), PullOptions(dest=tmp_path / "file" / "mirror"))
