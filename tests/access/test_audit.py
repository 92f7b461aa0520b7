"""The audit trail: each security-relevant change leaves one event in its own transaction,
administrators read and export it, and the application can never rewrite it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import TenantFixture
from factories import SALES_ACCOUNT
from flask import Flask
from flask.cli import ScriptInfo
from helpers import assert_envelope, csrf_token, run_cli

from trellis.access.audit import record_audit
from trellis.access.tables import audit_events
from trellis.cli import cli
from trellis.identity.tokens import create_token
from trellis.identity.users import create_user
from trellis.metadata.service import MetadataService

AGENT = "AuditTest/1.0"


def events(tenant: TenantFixture, **params: str) -> list[dict[str, Any]]:
    response = tenant.api("GET", "/api/v1/audit", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


def only(tenant: TenantFixture, action: str) -> dict[str, Any]:
    found = events(tenant, action=action)
    assert len(found) == 1, found
    return found[0]


def post_login(app: Flask, tenant: TenantFixture, email: str, password: str) -> int:
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=AGENT)
    page = client.get("/login").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "tenant": tenant.slug,
        "email": email,
        "password": password,
    }
    return client.post("/login", data=data).status_code


def test_logins_record_address_agent_and_who(app: Flask, tenant: TenantFixture) -> None:
    assert post_login(app, tenant, tenant.admin_email, tenant.admin_password) == 302
    succeeded = only(tenant, "login.succeeded")
    assert succeeded["actor_id"] == str(tenant.admin_id)
    assert succeeded["actor_email"] == tenant.admin_email
    assert succeeded["address"] == "203.0.113.7" and succeeded["user_agent"] == AGENT
    assert post_login(app, tenant, tenant.admin_email, "wrong password!") == 401
    assert post_login(app, tenant, "nobody@nowhere.test", "whatever pass") == 401
    failed = events(tenant, action="login.failed")
    assert [(e["actor_id"], e["actor_email"]) for e in failed] == [
        (None, "nobody@nowhere.test"),
        (None, tenant.admin_email),
    ]
    # The account whose password was tried is the target; an unknown email names none.
    assert [(e["target_type"], e["target_id"]) for e in failed] == [
        (None, None),
        ("user", str(tenant.admin_id)),
    ]
    assert {e["address"] for e in failed} == {"203.0.113.7"}


def test_token_creation_and_revocation_over_the_api(tenant: TenantFixture) -> None:
    created = tenant.api("POST", "/api/v1/tokens", json={"name": "ci", "scopes": ["read"]})
    assert created.status_code == 201
    token_id = created.get_json()["id"]
    event = only(tenant, "token.created")
    assert (event["target_type"], event["target_id"]) == ("api_token", token_id)
    assert event["actor_id"] == str(tenant.admin_id)
    assert event["details"] == {
        "name": "ci",
        "user_id": str(tenant.admin_id),
        "scopes": ["read"],
        "rate_limit": None,
    }
    assert "trl_" not in str(event)  # never the secret
    assert tenant.api("DELETE", f"/api/v1/tokens/{token_id}").status_code == 204
    assert only(tenant, "token.revoked")["target_id"] == token_id
    # Revoking it again fails, and a refused change records nothing.
    assert_envelope(tenant.api("DELETE", f"/api/v1/tokens/{token_id}"), 404)
    assert len(events(tenant, action="token.revoked")) == 1


def test_cli_user_and_token_commands_are_recorded(app: Flask, tenant: TenantFixture) -> None:
    email = f"someone@{tenant.slug}.test"
    assert run_cli(app, "user", "create", "--tenant", tenant.slug, "--email", email).exit_code == 0
    created = run_cli(app, "token", "create", "--tenant", tenant.slug, "--email", email)
    assert created.exit_code == 0, created.output
    event = only(tenant, "token.created")
    assert event["actor_id"] is None and event["details"]["via"] == "cli"
    token_id = event["target_id"]
    assert run_cli(app, "token", "revoke", "--tenant", tenant.slug, token_id).exit_code == 0
    assert only(tenant, "token.revoked")["target_id"] == token_id
    reset = run_cli(
        app, "user", "reset-password", "--tenant", tenant.slug, email, "--password-stdin"
    )
    assert reset.exit_code != 0  # no input: too short, refused and not recorded
    assert events(tenant, action="user.password_reset") == []
    reset = CliRunner().invoke(
        cli,
        ["user", "reset-password", "--tenant", tenant.slug, email, "--password-stdin"],
        obj=ScriptInfo(create_app=lambda: app),
        input="a long enough password\n",
    )
    assert reset.exit_code == 0, reset.output
    assert only(tenant, "user.password_reset")["details"]["email"] == email
    assert run_cli(app, "user", "deactivate", "--tenant", tenant.slug, email).exit_code == 0
    deactivated = only(tenant, "user.deactivated")
    assert deactivated["target_type"] == "user"
    assert deactivated["details"] == {"email": email, "sessions": 0, "tokens": 0, "via": "cli"}


def test_each_metadata_revision_and_export_is_recorded(app: Flask, tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT).status_code == 201
    event = only(tenant, "metadata.changed")
    assert event["details"]["revision"] == 1 and event["target_id"] == "1"
    assert event["details"]["objects"] == ["Account"]
    assert event["actor_id"] == str(tenant.admin_id)
    # A refused write records no revision and no event.
    refused = tenant.api("POST", "/api/v1/meta/objects", json={"api_name": "9Bad"})
    assert refused.status_code == 422
    assert len(events(tenant, action="metadata.changed")) == 1
    assert tenant.api("GET", "/api/v1/meta/package").status_code == 200
    assert only(tenant, "metadata.exported")["target_id"] == "1"
    assert run_cli(app, "metadata", "export", "--tenant", tenant.slug).exit_code == 0
    assert len(events(tenant, action="metadata.exported")) == 2


def test_a_rolled_back_change_leaves_no_event(app: Flask, tenant: TenantFixture) -> None:
    state = app.extensions["trellis"]
    with pytest.raises(RuntimeError):
        with state.database.tenant(tenant.id) as connection:
            MetadataService(connection, tenant.actor, state.metadata_cache).create_object(
                SALES_ACCOUNT
            )
            assert connection.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar()
            raise RuntimeError("the change fails after its revision was recorded")
    assert events(tenant) == []


def test_only_administrators_read_the_trail(app: Flask, tenant: TenantFixture) -> None:
    state = app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        user = create_user(connection, tenant.actor, email=f"u@{tenant.slug}.test", password=None)
        token, _ = create_token(connection, tenant.actor, user_id=user.id, name="plain")
        admin_read, _ = create_token(
            connection, tenant.actor, user_id=tenant.admin_id, name="r", scopes=["read"]
        )
    assert_envelope(tenant.api("GET", "/api/v1/audit", token=token), 403)
    assert_envelope(tenant.api("GET", "/api/v1/audit", token=admin_read), 403)
    assert_envelope(tenant.api("GET", "/api/v1/audit?format=csv", token=token), 403)
    assert_envelope(app.test_client().get("/api/v1/audit"), 401)


def seed(app: Flask, tenant: TenantFixture, count: int, action: str = "test.event") -> None:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        for number in range(count):
            record_audit(connection, tenant.actor, action, target_id=str(number))


def test_filters_and_keyset_pages(app: Flask, tenant: TenantFixture, other_tenant) -> None:
    seed(app, tenant, 5)
    seed(app, tenant, 2, action="other.event")
    seed(app, other_tenant, 3)
    first = tenant.api("GET", "/api/v1/audit?action=test.event&limit=2").get_json()
    assert [e["target_id"] for e in first["data"]] == ["4", "3"]
    second = tenant.api(
        "GET", f"/api/v1/audit?action=test.event&limit=2&cursor={first['next_cursor']}"
    ).get_json()
    third = tenant.api(
        "GET", f"/api/v1/audit?action=test.event&limit=2&cursor={second['next_cursor']}"
    ).get_json()
    assert [e["target_id"] for e in second["data"] + third["data"]] == ["2", "1", "0"]
    assert third["next_cursor"] is None
    assert len(events(tenant)) == 7  # the other tenant's events are not visible
    assert events(tenant, actor=str(tenant.admin_id)) == []  # the platform acted: no user
    now = dt.datetime.now(dt.UTC)
    assert len(events(tenant, since=(now - dt.timedelta(hours=1)).isoformat())) == 7
    assert events(tenant, since=(now + dt.timedelta(hours=1)).isoformat()) == []
    assert events(tenant, until=(now - dt.timedelta(hours=1)).isoformat()) == []
    assert len(events(tenant, until="2999-01-01T00:00:00Z")) == 7


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("actor=not-a-uuid", "actor"),
        ("limit=0", "limit"),
        ("cursor=-1", "cursor"),
        ("format=xml", "format"),
    ],
)
def test_bad_parameters_are_400s_naming_them(tenant: TenantFixture, query: str, name: str) -> None:
    body = assert_envelope(tenant.api("GET", f"/api/v1/audit?{query}"), 400)
    assert name in body["errors"]


def test_csv_export_is_itself_recorded(app: Flask, tenant: TenantFixture) -> None:
    seed(app, tenant, 2)
    response = tenant.api("GET", "/api/v1/audit?format=csv&action=test.event")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["target_id"] for row in rows] == ["1", "0"]
    assert rows[0]["action"] == "test.event" and rows[0]["details"] == "{}"
    exported = only(tenant, "audit.exported")
    assert exported["actor_id"] == str(tenant.admin_id)
    assert exported["details"] == {"rows": 2, "action": "test.event"}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'rewritten'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_the_application_role_cannot_rewrite_the_trail(
    app: Flask, tenant: TenantFixture, statement: str
) -> None:
    seed(app, tenant, 1)
    database = app.extensions["trellis"].database
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        with database.tenant(tenant.id) as connection:
            connection.execute(sa.text(statement))
    assert [e["action"] for e in events(tenant)] == ["test.event"]


def test_an_address_that_is_not_an_ip_is_left_out(app: Flask, tenant: TenantFixture) -> None:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        record_audit(connection, tenant.actor, "test.event", address="unknown", user_agent="x")
    event = only(tenant, "test.event")
    assert event["address"] is None and event["user_agent"] == "x"


def test_csv_cells_never_become_spreadsheet_formulas(app: Flask, tenant: TenantFixture) -> None:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        record_audit(connection, tenant.actor, "test.event", user_agent="=HYPERLINK(1)")
    response = tenant.api("GET", "/api/v1/audit?format=csv&action=test.event")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["user_agent"] == "'=HYPERLINK(1)"
