"""bench/_delay_proxy.py: the delaying TCP proxy of bench/executor_latency.py.

The scheduling is tested as a pure function (a clock passed in); the proxy itself is checked
to forward bytes intact, to pass an EOF on, and to delay: a round trip through it takes at
least the round trip it was given (a lower bound that holds however loaded the machine is).
"""

from __future__ import annotations

import socket
import threading
import time

from bench._delay_proxy import DelayLine, DelayProxy, round_trip_through


def test_a_chunk_is_due_one_way_delay_after_it_arrived() -> None:
    line = DelayLine(0.025)
    assert line.push(10.0, b"a") == 10.025
    assert line.next_due() == 10.025
    assert line.pop_due(10.024) == []
    assert line.pop_due(10.025) == [b"a"]
    assert line.next_due() is None and len(line) == 0


def test_chunks_leave_in_order_and_are_pipelined_not_serialised() -> None:
    line = DelayLine(0.025)
    for i in range(5):
        line.push(1.0 + i * 0.001, bytes([i]))
    # all five are due 25 ms after each arrived, not 5 x 25 ms after the first
    assert line.pop_due(1.0 + 0.025 + 0.0045) == [bytes([i]) for i in range(5)]


def test_due_times_never_go_backwards_and_eof_is_delayed_like_data() -> None:
    line = DelayLine(0.025)
    line.push(2.0, b"late")
    assert line.push(1.5, None) == 2.025  # an earlier clock reading cannot overtake
    assert line.pop_due(2.0249) == []
    assert line.pop_due(2.025) == [b"late", None]


def test_a_round_trip_costs_twice_the_one_way_delay() -> None:
    lines = (DelayLine(0.025), DelayLine(0.025))
    assert abs(round_trip_through(lines, 5.0) - 5.05) < 1e-9
    assert round_trip_through((DelayLine(0.0), DelayLine(0.0)), 5.0) == 5.0


def echo_server() -> tuple[socket.socket, int]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    return server, int(server.getsockname()[1])


def test_the_proxy_forwards_intact_and_each_round_trip_takes_at_least_its_delay() -> None:
    server, port = echo_server()
    with server, DelayProxy(round_trip=0.05) as proxy:
        address, proxy_port = proxy.forward("127.0.0.1", ("127.0.0.1", port))
        begun = time.monotonic()
        with socket.create_connection((address, proxy_port), timeout=10) as conn:
            payload = bytes(range(256)) * 1000
            conn.sendall(payload)
            got = b""
            while len(got) < len(payload):
                got += conn.recv(65536)
            first = time.monotonic()
            conn.sendall(b"ping")
            assert conn.recv(16) == b"ping"
            second = time.monotonic()
            conn.shutdown(socket.SHUT_WR)  # the echo server sees EOF, closes; so do we
            assert conn.recv(16) == b""
        assert got == payload
        # handshake (one round trip) + the data's round trip; then one more round trip
        assert first - begun >= 0.1
        assert second - first >= 0.05
        assert proxy.bytes_up == len(payload) + 4 and proxy.bytes_down == len(payload) + 4
        assert proxy.connections == 1
