"""The ``trellis`` command line."""
from __future__ import annotations

import uuid

from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from trellis.cli import cli


def run(app: Flask, *args: str):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_tenant_user_token_flow(app: Flask) -> None:
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    created = run(app, "tenant", "create", slug, "--name", "CLI Co")
    assert created.exit_code == 0, created.output
    assert slug in created.output
    user = run(app, "user", "create", "--tenant", slug, "--email", "boss@cli.test",
               "--password", "long-enough-pw", "--admin")
    assert user.exit_code == 0, user.output
    token_run = run(app, "token", "create", "--tenant", slug, "--email", "boss@cli.test")
    assert token_run.exit_code == 0, token_run.output
    token = token_run.stdout.strip().splitlines()[-1]
    assert token.startswith("trl_")
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["user"]["email"] == "boss@cli.test"
    assert me.get_json()["roles"] == ["admin"]


def test_cli_errors_are_one_clear_line(app: Flask) -> None:
    duplicate = f"dup-{uuid.uuid4().hex[:8]}"
    assert run(app, "tenant", "create", duplicate).exit_code == 0
    again = run(app, "tenant", "create", duplicate)
    assert again.exit_code == 1 and "already exists" in again.output
    bad = run(app, "tenant", "create", "Not A Slug")
    assert bad.exit_code == 1 and "slug" in bad.output
    unknown = run(app, "user", "create", "--tenant", "nope-nope", "--email", "a@b.cc")
    assert unknown.exit_code == 1 and "No tenant" in unknown.output
    weak = run(app, "user", "create", "--tenant", duplicate, "--email", "a@b.cc",
               "--password", "short")
    assert weak.exit_code == 1 and "password" in weak.output
    missing = run(app, "token", "create", "--tenant", duplicate, "--email", "ghost@b.cc")
    assert missing.exit_code == 1 and "No user" in missing.output
    assert "Traceback" not in "".join(r.output for r in (again, bad, unknown, weak, missing))


def test_db_upgrade_is_idempotent(app: Flask) -> None:
    from trellis.migrate import current_revision

    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert current_revision(app.extensions["trellis"].database) is not None


def test_settings_lists_every_environment_variable(app: Flask) -> None:
    from trellis.config import SETTINGS

    output = run(app, "settings").output
    for setting in SETTINGS:
        assert setting.env_var in output
