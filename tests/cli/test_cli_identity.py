"""``trellis tenant|user|token list``, user deactivation, password resets, token revocation."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner, Result
from conftest import TenantFixture
from flask import Flask
from flask.cli import ScriptInfo
from flask.testing import FlaskClient
from helpers import assert_envelope

from trellis.actor import TOKEN_SCOPES
from trellis.cli import cli


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app), input=input)


def login(app: Flask, tenant: TenantFixture, password: str) -> tuple[FlaskClient, int]:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf.group(1),
            "tenant": tenant.slug,
            "email": tenant.admin_email,
            "password": password,
        },
    )
    return client, response.status_code


def test_tenant_list_shows_the_tenant(app: Flask, tenant: TenantFixture) -> None:
    table = run(app, "tenant", "list")
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0].split()[:3] == ["SLUG", "NAME", "ACTIVE"]
    assert any(line.split()[0] == tenant.slug for line in table.output.splitlines()[1:])
    listed = json.loads(run(app, "tenant", "list", "--json").output)
    mine = [row for row in listed if row["slug"] == tenant.slug]
    assert mine == [
        {
            "slug": tenant.slug,
            "name": f"Tenant {tenant.slug}",
            "active": True,
            "created_at": mine[0]["created_at"],
            "id": str(tenant.id),
        }
    ]


def test_user_list(app: Flask, tenant: TenantFixture) -> None:
    created = run(app, "user", "create", "--tenant", tenant.slug, "--email", "b@list.test")
    assert created.exit_code == 0, created.output
    table = run(app, "user", "list", "--tenant", tenant.slug)
    assert table.exit_code == 0, table.output
    emails = [line.split()[0] for line in table.output.splitlines()[1:]]
    assert emails == [tenant.admin_email, "b@list.test"]
    users = json.loads(run(app, "user", "list", "--tenant", tenant.slug, "--json").output)
    assert [(user["email"], user["roles"], user["active"]) for user in users] == [
        (tenant.admin_email, ["admin"], True),
        ("b@list.test", [], True),
    ]
    assert all("password_hash" not in user for user in users)


def test_deactivated_user_cannot_sign_in_and_loses_sessions_and_tokens(
    app: Flask, tenant: TenantFixture
) -> None:
    browser, status = login(app, tenant, tenant.admin_password)
    assert status == 302 and browser.get("/api/v1/me").status_code == 200
    assert tenant.api("GET", "/api/v1/me").status_code == 200

    result = run(app, "user", "deactivate", "--tenant", tenant.slug, tenant.admin_email)
    assert result.exit_code == 0, result.output
    assert "ended 1 session(s), revoked 1 token(s)" in result.output

    assert_envelope(tenant.api("GET", "/api/v1/me"), 401)
    assert_envelope(browser.get("/api/v1/me"), 401)
    assert login(app, tenant, tenant.admin_password)[1] == 401
    users = json.loads(run(app, "user", "list", "--tenant", tenant.slug, "--json").output)
    assert users[0]["active"] is False
    tokens = json.loads(run(app, "token", "list", "--tenant", tenant.slug, "--json").output)
    assert tokens[0]["revoked_at"] is not None


def test_reset_password_prompts_twice_without_echo(app: Flask, tenant: TenantFixture) -> None:
    browser, _ = login(app, tenant, tenant.admin_password)
    new = "a brand new passphrase"
    result = run(
        app,
        "user",
        "reset-password",
        "--tenant",
        tenant.slug,
        tenant.admin_email,
        input=f"{new}\n{new}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output and new not in result.output
    assert login(app, tenant, tenant.admin_password)[1] == 401
    assert login(app, tenant, new)[1] == 302
    assert_envelope(browser.get("/api/v1/me"), 401)  # the session from before ended
    assert tenant.api("GET", "/api/v1/me").status_code == 200  # tokens are kept


def test_reset_password_from_stdin_and_bad_input(app: Flask, tenant: TenantFixture) -> None:
    args = ("user", "reset-password", "--tenant", tenant.slug)
    piped = run(app, *args, "--password-stdin", tenant.admin_email, input="piped passphrase\n")
    assert piped.exit_code == 0, piped.output
    assert "piped passphrase" not in piped.output
    assert login(app, tenant, "piped passphrase")[1] == 302
    short = run(app, *args, "--password-stdin", tenant.admin_email, input="short\n")
    assert short.exit_code == 1 and "at least" in short.output
    mismatch = run(app, *args, tenant.admin_email, input="one passphrase\nanother one\n")
    assert mismatch.exit_code == 1 and "do not match" in mismatch.output
    assert login(app, tenant, "piped passphrase")[1] == 302  # unchanged by the failures
    ghost = run(app, *args, "--password-stdin", "ghost@b.cc", input="long enough pw\n")
    assert ghost.exit_code == 1 and "No user ghost@b.cc" in ghost.output


def test_token_list_and_revoke(app: Flask, tenant: TenantFixture) -> None:
    created = run(
        app, "token", "create", "--tenant", tenant.slug, "--email", tenant.admin_email,
        "--name", "ci", "--scope", "read",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert tenant.api("GET", "/api/v1/me", token=secret).status_code == 200

    table = run(app, "token", "list", "--tenant", tenant.slug)
    assert table.exit_code == 0, table.output
    assert secret not in table.output and secret[4:36] not in table.output
    header = table.output.splitlines()[0].split()
    assert header[:4] == ["ID", "NAME", "USER", "SCOPES"] and "REVOKED" in header
    tokens = json.loads(run(app, "token", "list", "--tenant", tenant.slug, "--json").output)
    assert [(t["name"], t["user"], t["scopes"]) for t in tokens] == [
        ("tests", tenant.admin_email, sorted(TOKEN_SCOPES)),
        ("ci", tenant.admin_email, ["read"]),
    ]
    assert "token_hash" not in tokens[1] and tokens[1]["last_used_at"] is not None

    revoked = run(app, "token", "revoke", "--tenant", tenant.slug, tokens[1]["id"])
    assert revoked.exit_code == 0, revoked.output
    assert_envelope(tenant.api("GET", "/api/v1/me", token=secret), 401)
    assert tenant.api("GET", "/api/v1/me").status_code == 200  # the other token still works
    again = run(app, "token", "revoke", "--tenant", tenant.slug, tokens[1]["id"])
    assert again.exit_code == 1 and "No such active token" in again.output
    listed = json.loads(run(app, "token", "list", "--tenant", tenant.slug, "--json").output)
    assert listed[1]["revoked_at"] is not None and listed[0]["revoked_at"] is None


def test_identity_commands_reject_bad_input_in_one_line(app: Flask, tenant: TenantFixture) -> None:
    results = {
        "unknown tenant": run(app, "user", "list", "--tenant", "no-such-tenant"),
        "unknown tenant (tokens)": run(app, "token", "list", "--tenant", "no-such-tenant"),
        "unknown email": run(app, "user", "deactivate", "--tenant", tenant.slug, "x@y.zz"),
        "bad token id": run(app, "token", "revoke", "--tenant", tenant.slug, "not-an-id"),
    }
    assert [result.exit_code for result in results.values()] == [1, 1, 1, 2]
    assert "No tenant no-such-tenant" in results["unknown tenant"].output
    assert "No user x@y.zz" in results["unknown email"].output
    assert "not a valid UUID" in results["bad token id"].output
    for result in results.values():
        assert (
            "Traceback" not in result.output
            and result.exception is None
            or isinstance(result.exception, SystemExit)
        )
        if result.exit_code == 1:  # a usage error comes with click's usage lines
            assert result.output.strip().count("\n") == 0, result.output
    assert tenant.api("GET", "/api/v1/me").status_code == 200


def test_user_create_and_reset_password_apply_the_password_policy(
    app: Flask, tenant: TenantFixture
) -> None:
    create = ("user", "create", "--tenant", tenant.slug, "--email", "new@x.test", "--password")
    for weak, problem in (("short one", "at least 12"), ("q" * 20, "repeated")):
        refused = run(app, *create, weak)
        assert refused.exit_code == 1 and "password" in refused.output and problem in refused.output
    common = run(app, *create, "qwerty123456")
    assert common.exit_code == 1 and "common" in common.output
    listed = json.loads(run(app, "user", "list", "--tenant", tenant.slug, "--json").output)
    assert [user["email"] for user in listed] == [tenant.admin_email]  # nothing written
    assert run(app, *create, "a long new passphrase").exit_code == 0

    reset = ("user", "reset-password", "--tenant", tenant.slug, "--password-stdin")
    for weak in ("password1234", "xxxxxxxxxxxxxxxx"):
        refused = run(app, *reset, tenant.admin_email, input=f"{weak}\n")
        assert refused.exit_code == 1 and "password" in refused.output
    assert login(app, tenant, tenant.admin_password)[1] == 302  # unchanged
