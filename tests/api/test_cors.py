"""Cross-origin API calls from the browser origins a workspace allows, and no others."""

from __future__ import annotations

import uuid

import pytest
from access_helpers import member
from conftest import TenantFixture
from flask import Flask
from helpers import assert_envelope


def allow(tenant: TenantFixture, *origins: str) -> dict:
    response = tenant.api("PATCH", "/api/v1/tenant/api-settings", json={"cors_origins": origins})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def preflight(app: Flask, origin: str, path: str = "/api/v1/objects/Account/records") -> object:
    return app.test_client().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )


@pytest.fixture()
def origin() -> str:
    return f"https://app-{uuid.uuid4().hex[:8]}.example.com"


def test_no_origin_is_allowed_by_default(app: Flask, tenant: TenantFixture, origin: str) -> None:
    assert tenant.api("GET", "/api/v1/tenant/api-settings").get_json()["cors_origins"] == []
    answer = preflight(app, origin)
    assert answer.status_code == 204
    assert "Access-Control-Allow-Origin" not in answer.headers
    call = tenant.api("GET", "/api/v1/me", headers={"Origin": origin})
    assert call.status_code == 200
    assert "Access-Control-Allow-Origin" not in call.headers
    assert "Origin" in call.headers["Vary"]


def test_an_allowed_origin_is_answered(app: Flask, tenant: TenantFixture, origin: str) -> None:
    settings = allow(tenant, origin.upper() + "/", origin, "http://localhost:3000")
    assert settings["cors_origins"] == [origin, "http://localhost:3000"]  # normalised, once
    answer = preflight(app, origin)
    assert answer.status_code == 204
    headers = answer.headers
    assert headers["Access-Control-Allow-Origin"] == origin
    assert set(headers["Access-Control-Allow-Methods"].split(", ")) >= {"GET", "PATCH", "DELETE"}
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed >= {"authorization", "content-type", "if-match", "idempotency-key"}
    assert "Access-Control-Allow-Credentials" not in headers
    assert "Origin" in headers["Vary"]
    call = tenant.api("GET", "/api/v1/me", headers={"Origin": origin})
    assert call.status_code == 200
    assert call.headers["Access-Control-Allow-Origin"] == origin
    exposed = {h.strip() for h in call.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed >= {"ETag", "Location", "RateLimit", "RateLimit-Policy", "Retry-After"}
    assert "Access-Control-Allow-Credentials" not in call.headers
    # An error is readable too, so the page can say what went wrong.
    missing = tenant.api("GET", "/api/v1/objects/Nope/records", headers={"Origin": origin})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == origin
    # A bad token: the caller is unknown, but the origin is one some workspace allows.
    anonymous = app.test_client().get(
        "/api/v1/me", headers={"Origin": origin, "Authorization": "Bearer nope"}
    )
    assert anonymous.status_code == 401
    assert anonymous.headers["Access-Control-Allow-Origin"] == origin


def test_another_workspaces_origin_is_not_this_ones(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture, origin: str
) -> None:
    allow(other_tenant, origin)
    # The preflight cannot tell the workspaces apart; the answer itself can.
    assert preflight(app, origin).headers["Access-Control-Allow-Origin"] == origin
    call = tenant.api("GET", "/api/v1/me", headers={"Origin": origin})
    assert call.status_code == 200
    assert "Access-Control-Allow-Origin" not in call.headers
    # Taking it off the list ends it.
    allow(other_tenant)
    assert "Access-Control-Allow-Origin" not in preflight(app, origin).headers


def test_screens_get_no_cors_headers(app: Flask, tenant: TenantFixture, origin: str) -> None:
    allow(tenant, origin)
    page = app.test_client().get("/login", headers={"Origin": origin})
    assert "Access-Control-Allow-Origin" not in page.headers


@pytest.mark.parametrize(
    "origins",
    [
        ["*"],
        ["https://*.example.com"],
        ["https://example.com/app"],
        ["example.com"],
        ["ftp://example.com"],
        ["https://example.com?x=1"],
        [3],
        "https://example.com",
        [f"https://h{n}.example.com" for n in range(51)],
    ],
    ids=lambda value: repr(value)[:30],
)
def test_bad_origins_are_refused(tenant: TenantFixture, origins: object) -> None:
    allow(tenant, "https://kept.example.com")
    response = tenant.api("PATCH", "/api/v1/tenant/api-settings", json={"cors_origins": origins})
    errors = assert_envelope(response, 422, "validation_error")["errors"]
    assert any(key.startswith("cors_origins") for key in errors)
    kept = tenant.api("GET", "/api/v1/tenant/api-settings").get_json()["cors_origins"]
    assert kept == ["https://kept.example.com"]


def test_changes_are_audited(tenant: TenantFixture, origin: str) -> None:
    allow(tenant, origin)
    allow(tenant, origin)  # no change, no event
    events = tenant.api(
        "GET", "/api/v1/audit", query_string={"action": "tenant.api_settings_changed"}
    ).get_json()["data"]
    assert [e["details"] for e in events] == [{"cors_origins": [[], [origin]]}]
    assert_envelope(member(tenant, "plain").api("GET", "/api/v1/tenant/api-settings"), 403)
