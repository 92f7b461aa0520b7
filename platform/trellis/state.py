"""The resources of one app instance, reachable from request code through ``current_app``."""
from __future__ import annotations

import dataclasses

import pluggy
import redis
from flask import current_app

from trellis.config import Config
from trellis.db import Database


@dataclasses.dataclass
class AppState:
    config: Config
    database: Database
    redis: redis.Redis
    redis_url: str
    redis_embedded: bool
    plugins: pluggy.PluginManager


def get_state() -> AppState:
    return current_app.extensions["trellis"]
