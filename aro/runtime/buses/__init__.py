"""Broadcast buses between processes: the relay of ``aro serve`` (``relay``) and Redis pub/sub
(``redis``), speaking one message format (``wire``).  ``aro/runtime/broadcast.py`` chooses one
by the scheme of ``Config.bus``."""

from __future__ import annotations

from aro.config import ConfigError

REDIS_CONNECT_SECONDS = 2.0


def check_reachable(bus: str) -> None:
    """ConfigError when the bus is on a server that does not answer (checked once, before
    anything starts, so that a typo in a URL is one line and exit 2, not N failing workers)."""
    if not bus.startswith("redis:"):
        return
    try:
        import redis
    except ImportError:
        needed = "--bus redis://… needs the redis package (pip install aro-py[redis])"
        raise ConfigError(needed) from None
    client = redis.Redis.from_url(bus, socket_connect_timeout=REDIS_CONNECT_SECONDS)
    try:
        client.ping()
    except (redis.RedisError, OSError, ValueError) as error:
        raise ConfigError(f"--bus cannot reach Redis at {bus}: {error}") from None
    finally:
        client.close()
