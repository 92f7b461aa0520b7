"""The resources of one app instance, reachable from request code through ``current_app``."""

from __future__ import annotations

import dataclasses

import pluggy
import redis
from flask import current_app

from trellis.config import Config
from trellis.db import Database
from trellis.metadata.compiled import MetadataCache
from trellis.metadata.field_types import FieldTypeRegistry
from trellis.redis_client import RedisBreaker


@dataclasses.dataclass
class AppState:
    config: Config
    database: Database
    redis: redis.Redis  # short timeouts: trellis.redis_client
    redis_breaker: RedisBreaker
    redis_url: str
    redis_embedded: bool
    plugins: pluggy.PluginManager
    field_types: FieldTypeRegistry
    metadata_cache: MetadataCache

    def close(self) -> None:
        """Give back the app's connections: the database pools and the Redis client's
        sockets (left to the garbage collector, they are closed at some later moment
        with a ResourceWarning)."""
        self.database.dispose()
        self.redis.connection_pool.disconnect()


def get_state() -> AppState:
    return current_app.extensions["trellis"]
