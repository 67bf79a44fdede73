"""One read limit for every input a user names (deepctl.user_input): a regular file, a device,
a FIFO (what ``<(...)`` gives), a pipe on standard input (``-``). Each kind is read in chunks
up to the limit + 1 and refused above it; nothing trusts ``stat``'s size (0 for a device)."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepctl.user_input import InputError, human_size, read_capped, read_input

LIMIT = 1000


def feed(path: Path, data: bytes) -> threading.Thread:
    """Write ``data`` into the FIFO ``path`` from a thread (a reader that stops early is fine)."""

    def write() -> None:
        try:
            with path.open("wb") as handle:
                handle.write(data)
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    yield path


def test_a_regular_file_up_to_the_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"x" * LIMIT)
    assert read_input(path, LIMIT, "spec") == b"x" * LIMIT


def test_a_regular_file_over_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)  # sparse
    with pytest.raises(InputError) as info:
        read_input(path, 1024 * 1024, "spec")
    assert info.value.reason == "too-large"
    assert info.value.message == f"{path} is 3 MiB; a spec is at most 1 MiB"


def test_a_device_that_never_ends_is_refused_at_the_limit() -> None:
    # stat says 0 bytes for /dev/zero: only reading up to limit + 1 can tell.
    assert os.stat("/dev/zero").st_size == 0
    with pytest.raises(InputError) as info:
        read_input(Path("/dev/zero"), LIMIT, "spec")
    assert info.value.reason == "too-large"
    assert info.value.message == "/dev/zero holds more than 1000 bytes; a spec is at most 1000 bytes"


def test_a_fifo_within_the_limit_is_read(fifo: Path) -> None:
    thread = feed(fifo, b"kind: Cluster\n")
    assert read_input(fifo, LIMIT, "spec") == b"kind: Cluster\n"
    thread.join(5)


def test_a_fifo_over_the_limit_is_refused(fifo: Path) -> None:
    thread = feed(fifo, b"y" * (LIMIT * 50))
    with pytest.raises(InputError) as info:
        read_input(fifo, LIMIT, "spec")
    assert info.value.reason == "too-large"
    thread.join(5)


def test_dash_reads_standard_input_with_the_same_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"z" * 10)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(pipe))
        assert read_input("-", LIMIT, "spec") == b"z" * 10
    read_end, write_end = os.pipe()
    writer = threading.Thread(target=lambda: _write_all(write_end, b"z" * (LIMIT * 10)),
                              daemon=True)
    writer.start()
    with os.fdopen(read_end, "rb") as pipe:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(pipe))
        with pytest.raises(InputError) as info:
            read_input("-", LIMIT, "spec")
    assert info.value.message.startswith("<stdin> holds more than 1000 bytes")


def _write_all(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
    except BrokenPipeError:
        pass
    finally:
        os.close(fd)


@pytest.mark.parametrize(("make", "reason", "fragment"), [
    (lambda p: None, "missing", "no such file"),
    (lambda p: p.mkdir(), "directory", "is a directory, not a spec file"),
])
def test_what_cannot_be_read_is_named(tmp_path: Path, make: object, reason: str,
                                      fragment: str) -> None:
    path = tmp_path / "thing"
    make(path)  # type: ignore[operator]
    with pytest.raises(InputError) as info:
        read_input(path, LIMIT, "spec")
    assert (info.value.reason, info.value.message) == (reason, f"{path}: {fragment}")


def test_read_capped_stops_one_byte_past_the_limit() -> None:
    class Counting(io.BytesIO):
        asked = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            Counting.asked += len(data)
            return data

    data, more = read_capped(Counting(b"a" * 10_000_000), LIMIT)
    assert (len(data), more, Counting.asked) == (LIMIT, True, LIMIT + 1)


def test_human_size() -> None:
    assert [human_size(n) for n in (100, 262144, 8 * 1024 * 1024, 1536)] == [
        "100 bytes", "256 KiB", "8 MiB", "1.5 KiB"]


def test_a_mirror_s_bookkeeping_files_are_read_within_a_limit_too() -> None:
    """``artifacts pull/push`` read JSON files of a mirror directory the user names: a record
    or an OCI index that is a device (or a huge file) is treated as unreadable, not read to
    the end of memory (a subprocess under a 1 GiB address-space limit)."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    code = (
        "from pathlib import Path\n"
        "from deepctl.artifacts.record import VerifiedRecord\n"
        "from deepctl.artifacts.images import _read_json\n"
        "record = VerifiedRecord(Path('/dev/zero'))\n"
        "assert not record.is_verified('k', Path('/dev/null'), None)\n"
        "assert _read_json(Path('/dev/zero')) is None\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False, preexec_fn=limit)
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr[-2000:]
