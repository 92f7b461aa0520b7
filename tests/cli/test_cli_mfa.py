"""``trellis tenant require-mfa`` and ``trellis user reset-mfa``."""

from __future__ import annotations

from typing import Any

from conftest import TenantFixture
from flask import Flask
from helpers import csrf_token, enable_mfa, login, run_cli


def audit(tenant: TenantFixture, action: str) -> list[dict[str, Any]]:
    response = tenant.api("GET", "/api/v1/audit", query_string={"action": action})
    return response.get_json()["data"]


def test_require_mfa_on_and_off(app: Flask, tenant: TenantFixture) -> None:
    turned_on = run_cli(app, "tenant", "require-mfa", tenant.slug, "--on")
    assert turned_on.exit_code == 0, turned_on.output
    assert "now requires two-factor sign-in" in turned_on.output
    assert tenant.api("GET", "/api/v1/tenant/security").get_json() == {"require_mfa": True}
    # The administrator has no second factor yet: their browser session may only enrol.
    client = app.test_client()
    login(client, tenant)
    assert client.get("/api/v1/me").get_json()["code"] == "mfa_enrolment_required"

    assert run_cli(app, "tenant", "require-mfa", tenant.slug, "--on").exit_code == 0
    assert run_cli(app, "tenant", "require-mfa", tenant.slug, "--off").exit_code == 0
    assert client.get("/api/v1/me").status_code == 200
    changes = [event["details"] for event in audit(tenant, "tenant.mfa_required_changed")]
    assert changes == [  # newest first; the repeated --on changed nothing
        {"require_mfa": False, "via": "cli"},
        {"require_mfa": True, "via": "cli"},
    ]
    missing = run_cli(app, "tenant", "require-mfa", tenant.slug)
    assert missing.exit_code == 2 and "Missing option" in missing.output
    unknown = run_cli(app, "tenant", "require-mfa", "no-such-tenant", "--on")
    assert unknown.exit_code == 1 and "No tenant no-such-tenant" in unknown.output


def test_reset_mfa_lets_the_user_in_with_the_password(app: Flask, tenant: TenantFixture) -> None:
    client = app.test_client()
    login(client, tenant)
    enable_mfa(client, csrf_token(client.get("/").get_data(as_text=True)))
    assert login(app.test_client(), tenant).headers["Location"] == "/login/code"

    reset = run_cli(app, "user", "reset-mfa", "--tenant", tenant.slug, tenant.admin_email)
    assert reset.exit_code == 0, reset.output
    assert f"Turned off two-factor sign-in for {tenant.admin_email}" in reset.output
    assert login(app.test_client(), tenant).headers["Location"] == "/"
    [event] = audit(tenant, "mfa.disabled")
    assert event["target_id"] == str(tenant.admin_id) and event["actor_id"] is None
    assert event["details"] == {
        "email": tenant.admin_email,
        "reset_by_administrator": True,
        "via": "cli",
    }

    again = run_cli(app, "user", "reset-mfa", "--tenant", tenant.slug, tenant.admin_email)
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert len(audit(tenant, "mfa.disabled")) == 1
    unknown = run_cli(app, "user", "reset-mfa", "--tenant", tenant.slug, "x@y.zz")
    assert unknown.exit_code == 1 and "No user x@y.zz" in unknown.output
