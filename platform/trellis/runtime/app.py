"""The application factory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
import pluggy
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from trellis.api.request import RowIdConverter
from trellis.automation.actions import ActionRegistry
from trellis.config import Config, load_config
from trellis.db import Database
from trellis.metadata.compiled import MetadataCache
from trellis.metadata.field_types import FieldTypeRegistry
from trellis.metadata.formulas import FormulaCompiler
from trellis.plugins_manager import build_plugin_manager
from trellis.redis_client import RedisBreaker, connect
from trellis.rule_engine import FunctionRegistry
from trellis.runtime.embedded import resolve_service_urls
from trellis.state import AppState


def create_app(
    config: Config | Mapping[str, Any] | None = None, plugins: Iterable[object | str] = ()
) -> Flask:
    """Build a Trellis app: configuration, database, Redis, plugins, routes, Celery."""
    import trellis.ui_templates
    from trellis import compression, errors, observability
    from trellis.identity import auth
    from trellis.runtime import celery_app
    from trellis.views import security_headers

    if not isinstance(config, Config):
        config = load_config(config)
    database_url, redis_url, redis_embedded = resolve_service_urls(
        config.database_url, config.redis_url, config.instance_path
    )
    config = config.replace(database_url=database_url, redis_url=redis_url)

    ui_root = Path(trellis.ui_templates.__file__).parent
    app = _flask_app(config, ui_root)
    configured = [name.strip() for name in config.plugin_modules.split(",") if name.strip()]
    plugin_manager = build_plugin_manager([*configured, *plugins])
    folders = [folder for result in plugin_manager.hook.template_folders() for folder in result]
    app.jinja_loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(folders), jinja2.FileSystemLoader(str(ui_root / "templates"))]
    )
    app.extensions["trellis"] = _app_state(
        config, plugin_manager, database_url, redis_url, redis_embedded
    )
    observability.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    security_headers.init_app(app)
    compression.init_app(app)
    app.url_map.converters["row_id"] = RowIdConverter
    for blueprints in plugin_manager.hook.register_blueprints():
        for blueprint in blueprints:
            app.register_blueprint(blueprint)
    celery_app.celery_init_app(app)
    plugin_manager.hook.startup(app=app)
    return app


def _flask_app(config: Config, ui_root: Path) -> Flask:
    """The Flask app with the bundled UI's static files and templates and the session
    cookie settings."""
    app = Flask(
        "trellis",
        instance_path=config.instance_path,
        static_folder=str(ui_root / "static"),
        static_url_path="/static",
        template_folder=str(ui_root / "templates"),
    )
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        SESSION_COOKIE_NAME="trellis_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=config.secure_cookies,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=config.session_hours * 3600,
        # A session ends when its row does (its expiry is fixed at sign-in), so the cookie
        # is written when it changes, not re-signed on every answer.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    if config.trusted_proxy:
        # One proxy in front: its X-Forwarded-* say the client's scheme, address and host.
        # Without it those headers are the client's word and are ignored.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=1, x_proto=1, x_host=1
        )
    return app


def _app_state(
    config: Config,
    plugin_manager: pluggy.PluginManager,
    database_url: str,
    redis_url: str,
    redis_embedded: bool,
) -> AppState:
    """The app's shared state: connections, and the field types, formula functions and
    automation actions the plugins register."""
    field_types = FieldTypeRegistry()
    plugin_manager.hook.register_field_types(registry=field_types)
    formula_functions = FunctionRegistry()
    plugin_manager.hook.register_formula_functions(registry=formula_functions)
    actions = ActionRegistry()
    plugin_manager.hook.register_automation_actions(registry=actions)
    return AppState(
        config=config,
        database=Database(database_url, config.db_app_role, config.db_pool_size),
        redis=connect(redis_url, config.redis_timeout_seconds),
        redis_breaker=RedisBreaker(config.redis_pause_seconds),
        redis_url=redis_url,
        redis_embedded=redis_embedded,
        plugins=plugin_manager,
        field_types=field_types,
        metadata_cache=MetadataCache(
            field_types,
            formula_functions.freeze(),
            actions,
            plugin_manager.hook,
            formula_compiler=FormulaCompiler,
        ),
    )
