"""The private redis-server the Redis-backed tests use starts, answers and stops."""

import socket

from tests.support.redis_server import redis_server


def test_private_redis_server_starts_answers_and_stops(tmp_path):
    with redis_server(tmp_path) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            assert conn.recv(16) == b"+PONG\r\n"
        process = server.process
    assert process.poll() is not None
