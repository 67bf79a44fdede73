"""A userspace TCP proxy that adds latency: a stand-in for a long network link (no netem here).

Each listening port forwards to one upstream (a test host's sshd). Every chunk read on one side
is written to the other side ``one_way`` seconds after it arrived, in order, so a round trip
(request one way, answer back) takes ``2 * one_way`` longer; data is pipelined, not held back
behind the chunks before it (a delay line, not a slower link). A new connection is also held
one round trip before the upstream is opened, as a TCP handshake over that link would be
(the kernel answers the client's SYN at once; that cannot be delayed from userspace).

Standard library only (asyncio, in a thread of its own). Bytes are counted per direction.

    with DelayProxy(round_trip=0.05) as proxy:
        address, port = proxy.forward("127.0.0.120", ("127.0.0.101", 22))
        ...
        proxy.bytes_up, proxy.bytes_down
"""

from __future__ import annotations

import asyncio
import collections
import socket
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType

CHUNK = 65536


@dataclass
class DelayLine:
    """When each chunk of one direction may leave (pure: the clock is passed in).

    ``push(now, data)`` queues a chunk that arrived at ``now``; it is due ``delay`` later.
    ``pop_due(now)`` takes, in arrival order, the chunks due by ``now``; ``next_due()`` is when
    the first waiting one is (None when none waits). ``None`` as data marks the end of the
    stream (the peer's EOF), which is delayed like data.
    """

    delay: float
    _queue: collections.deque[tuple[float, bytes | None]] = field(
        default_factory=collections.deque)

    def push(self, now: float, data: bytes | None) -> float:
        # due times never go backwards, even if the clock passed in did
        due = now + self.delay
        if self._queue and self._queue[-1][0] > due:
            due = self._queue[-1][0]
        self._queue.append((due, data))
        return due

    def next_due(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now: float) -> list[bytes | None]:
        out: list[bytes | None] = []
        while self._queue and self._queue[0][0] <= now:
            out.append(self._queue.popleft()[1])
        return out

    def __len__(self) -> int:
        return len(self._queue)


def round_trip_through(lines: tuple[DelayLine, DelayLine], sent_at: float) -> float:
    """When an answer given at once to a chunk sent at ``sent_at`` comes back (pure)."""
    there, back = lines
    arrived = there.push(sent_at, b"?")
    there.pop_due(arrived)
    returned = back.push(arrived, b"!")
    back.pop_due(returned)
    return returned


class DelayProxy:
    """Listening ports on loopback addresses, each forwarding to one upstream, with latency."""

    def __init__(self, round_trip: float) -> None:
        self.one_way = round_trip / 2
        self.round_trip = round_trip
        self.bytes_up = 0  # client -> upstream (controller -> cluster)
        self.bytes_down = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._thread = threading.Thread(target=self._loop.run_forever, name="delay-proxy",
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> DelayProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def forward(self, listen_address: str, upstream: tuple[str, int],
                listen_port: int = 0) -> tuple[str, int]:
        """Listen on ``listen_address`` (a free port unless given); return (address, port)."""
        future: Future[asyncio.Server] = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(lambda r, w: self._serve(r, w, upstream), listen_address,
                                 listen_port, reuse_address=True), self._loop)
        server = future.result(timeout=10)
        self._servers.append(server)
        sock: socket.socket = server.sockets[0]
        return listen_address, int(sock.getsockname()[1])

    def reset_counters(self) -> None:
        self.bytes_up = self.bytes_down = self.connections = 0

    def close(self) -> None:
        if self._loop.is_closed():
            return

        async def shut() -> None:
            for server in self._servers:
                server.close()
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # -- in the proxy's thread -------------------------------------------------------

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter,
                     upstream: tuple[str, int]) -> None:
        self.connections += 1
        await asyncio.sleep(self.round_trip)  # the handshake over the long link
        try:
            up_r, up_w = await asyncio.open_connection(*upstream)
        except OSError:
            client_w.close()
            return
        pumps = [asyncio.create_task(self._pump(client_r, up_w, up=True)),
                 asyncio.create_task(self._pump(up_r, client_w, up=False))]
        try:
            await asyncio.gather(*pumps)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for task in pumps:
                task.cancel()
            for writer in (client_w, up_w):
                writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    up: bool) -> None:
        line = DelayLine(self.one_way)
        ready = asyncio.Event()
        loop = asyncio.get_running_loop()

        async def read() -> None:
            while True:
                try:
                    data = await reader.read(CHUNK)
                except OSError:
                    data = b""
                line.push(loop.time(), data or None)
                ready.set()
                if not data:
                    return
                if up:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)

        reading = asyncio.create_task(read())
        try:
            while True:
                due = line.next_due()
                if due is None:
                    ready.clear()
                    await ready.wait()
                    continue
                await asyncio.sleep(max(0.0, due - loop.time()))
                for data in line.pop_due(loop.time()):
                    if data is None:
                        if writer.can_write_eof():
                            writer.write_eof()
                        return
                    writer.write(data)
                await writer.drain()
        finally:
            reading.cancel()

