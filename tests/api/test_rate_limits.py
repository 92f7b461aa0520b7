"""Per-token and per-user request budgets in Redis, announced in RateLimit header fields."""

from __future__ import annotations

import re
import socket
import uuid
from typing import Any

import pytest
from access_helpers import member
from conftest import TenantFixture
from flask import Flask
from helpers import assert_envelope, login

POLICY = re.compile(r'^"(?P<name>default|token)";q=(?P<q>\d+);w=60$')
FIELD = re.compile(r'^"(?P<name>default|token)";r=(?P<r>\d+);t=(?P<t>\d+)$')


def budget(tenant: TenantFixture, limit: int | None) -> None:
    response = tenant.api("PATCH", "/api/v1/tenant/api-settings", json={"rate_limit": limit})
    assert response.status_code == 200, response.get_json()


def state(response: Any) -> tuple[str, int, int, int]:
    """(policy name, quota, remaining, reset seconds) from a response's header fields."""
    policy = POLICY.match(response.headers["RateLimit-Policy"])
    field = FIELD.match(response.headers["RateLimit"])
    assert policy and field, dict(response.headers)
    assert policy["name"] == field["name"]
    return policy["name"], int(policy["q"]), int(field["r"]), int(field["t"])


def test_every_api_answer_carries_the_budget(tenant: TenantFixture) -> None:
    first = tenant.api("GET", "/api/v1/me")
    name, quota, remaining, reset = state(first)
    assert (name, quota) == ("default", 100_000)  # the deployment's (the test settings')
    # (So large a budget refills by one every 0.6 ms: "remaining" is only near the top.)
    assert quota - 10 < remaining < quota and reset >= 1
    # Errors and unknown paths spend and say it too.
    missing = tenant.api("GET", "/api/v1/no-such-thing")
    assert missing.status_code == 404 and state(missing)[2] < quota
    # Screens are not the API: no budget there.
    assert "RateLimit" not in tenant.api("GET", "/login").headers


# Budgets of a few requests a minute refill by one every 12 s or more: far longer than a
# test takes between two requests, so the counts below are exact.


def test_the_workspace_budget_runs_out_with_a_429(tenant: TenantFixture) -> None:
    budget(tenant, 3)  # this request spent the default budget, not the new one
    remaining = [state(tenant.api("GET", "/api/v1/me"))[2] for _ in range(3)]
    assert remaining == [2, 1, 0]
    refused = tenant.api("GET", "/api/v1/me")
    body = assert_envelope(refused, 429, "rate_limited")
    assert "3 a minute" in body["error"]
    retry = int(refused.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert state(refused) == ("default", 3, 0, retry)
    # A refused write changes nothing.
    created = tenant.api("POST", "/api/v1/tokens", json={"name": "late"})
    assert_envelope(created, 429, "rate_limited")
    listed = tenant.api("GET", "/api/v1/tokens", token=None)
    assert listed.status_code == 429


def test_each_token_has_its_own_budget(tenant: TenantFixture) -> None:
    second = tenant.api("POST", "/api/v1/tokens", json={"name": "second"}).get_json()["token"]
    budget(tenant, 2)
    for _ in range(2):
        assert tenant.api("GET", "/api/v1/me").status_code == 200
    assert tenant.api("GET", "/api/v1/me").status_code == 429
    # The same user's other token is untouched.
    assert state(tenant.api("GET", "/api/v1/me", token=second))[1:3] == (2, 1)


def admin_token_limit(tenant: TenantFixture, limit: int) -> None:
    """Give the administrator's token a budget of its own, to change settings with."""
    (token,) = tenant.api("GET", "/api/v1/tokens").get_json()["data"]
    changed = tenant.api("PATCH", f"/api/v1/tokens/{token['id']}", json={"rate_limit": limit})
    assert changed.status_code == 200, changed.get_json()


def test_a_token_of_its_own_limit(tenant: TenantFixture) -> None:
    admin_token_limit(tenant, 1000)
    budget(tenant, 2)
    created = tenant.api("POST", "/api/v1/tokens", json={"name": "bulk", "rate_limit": 5})
    assert created.status_code == 201, created.get_json()
    token = created.get_json()
    assert token["rate_limit"] == 5
    statuses = [tenant.api("GET", "/api/v1/me", token=token["token"]) for _ in range(6)]
    assert [r.status_code for r in statuses] == [200] * 5 + [429]
    assert state(statuses[0])[:3] == ("token", 5, 4)
    # Back to the workspace's budget, then a larger one of its own.
    changed = tenant.api("PATCH", f"/api/v1/tokens/{token['id']}", json={"rate_limit": None})
    assert changed.status_code == 200 and changed.get_json()["rate_limit"] is None
    listed = {t["id"]: t for t in tenant.api("GET", "/api/v1/tokens").get_json()["data"]}
    assert listed[token["id"]]["rate_limit"] is None
    assert state(tenant.api("GET", "/api/v1/me", token=token["token"]))[:2] == ("default", 2)
    events = tenant.api("GET", "/api/v1/audit", query_string={"action": "token.rate_limit_changed"})
    changes = [e["details"]["rate_limit"] for e in events.get_json()["data"]]
    assert changes == [[5, None], [None, 1000]]  # newest first


@pytest.mark.parametrize(
    "value", [0, -1, 1.5, "10", True, 1_000_001, [3]], ids=lambda value: repr(value)
)
def test_bad_limits_are_refused(tenant: TenantFixture, value: Any) -> None:
    for method, path, body in (
        ("PATCH", "/api/v1/tenant/api-settings", {"rate_limit": value}),
        ("POST", "/api/v1/tokens", {"name": "x", "rate_limit": value}),
    ):
        response = tenant.api(method, path, json=body)
        assert "rate_limit" in assert_envelope(response, 422, "validation_error")["errors"]
    settings = tenant.api("GET", "/api/v1/tenant/api-settings").get_json()
    assert settings["rate_limit"] is None and settings["default_rate_limit"] == 100_000
    assert len(tenant.api("GET", "/api/v1/tokens").get_json()["data"]) == 1


def test_only_administrators_raise_a_token_limit(tenant: TenantFixture) -> None:
    budget(tenant, 10)
    user = member(tenant, "plain")
    too_many = user.api("POST", "/api/v1/tokens", json={"name": "x", "rate_limit": 11})
    assert "At most 10" in assert_envelope(too_many, 422)["errors"]["rate_limit"][0]
    fewer = user.api("POST", "/api/v1/tokens", json={"name": "x", "rate_limit": 4})
    assert fewer.status_code == 201, fewer.get_json()
    token_id = fewer.get_json()["id"]
    raised = user.api("PATCH", f"/api/v1/tokens/{token_id}", json={"rate_limit": 50})
    assert_envelope(raised, 422)
    # Someone else's token is unknown to them; the administrator may change it.
    admin_token = tenant.api("GET", "/api/v1/tokens").get_json()["data"][0]["id"]
    others = user.api("PATCH", f"/api/v1/tokens/{admin_token}", json={"rate_limit": 2})
    assert_envelope(others, 404)
    by_admin = tenant.api("PATCH", f"/api/v1/tokens/{token_id}", json={"rate_limit": 50})
    assert by_admin.status_code == 200 and by_admin.get_json()["rate_limit"] == 50
    only = tenant.api("PATCH", f"/api/v1/tokens/{token_id}", json={"name": "renamed"})
    assert_envelope(only, 422)
    assert_envelope(tenant.api("PATCH", f"/api/v1/tokens/{uuid.uuid4()}", json={}), 422)
    assert_envelope(
        tenant.api("PATCH", f"/api/v1/tokens/{uuid.uuid4()}", json={"rate_limit": 3}), 404
    )


def test_only_administrators_see_and_change_the_settings(tenant: TenantFixture) -> None:
    user = member(tenant, "plain")
    assert_envelope(user.api("GET", "/api/v1/tenant/api-settings"), 403)
    assert_envelope(user.api("PATCH", "/api/v1/tenant/api-settings", json={"rate_limit": 9}), 403)
    assert_envelope(tenant.api("PATCH", "/api/v1/tenant/api-settings", json={"rate": 9}), 422)
    assert_envelope(tenant.api("PATCH", "/api/v1/tenant/api-settings", json={}), 422)
    assert tenant.api("GET", "/api/v1/tenant/api-settings").get_json()["rate_limit"] is None


def test_browser_sessions_share_the_user_budget(app: Flask, tenant: TenantFixture) -> None:
    budget(tenant, 3)
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        assert login(browser, tenant).status_code == 302
    assert state(laptop.get("/api/v1/me"))[:3] == ("default", 3, 2)
    assert state(phone.get("/api/v1/me"))[2] == 1
    assert laptop.get("/api/v1/me").status_code == 200
    assert_envelope(phone.get("/api/v1/me"), 429, "rate_limited")
    # The user's API token is a budget of its own.
    assert tenant.api("GET", "/api/v1/me").status_code == 200


def test_workspaces_do_not_share_budgets(
    tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    budget(tenant, 1)
    assert tenant.api("GET", "/api/v1/me").status_code == 200
    assert tenant.api("GET", "/api/v1/me").status_code == 429
    assert other_tenant.api("GET", "/api/v1/me").status_code == 200


def test_unauthenticated_calls_spend_the_address_budget(make_app) -> None:
    app = make_app(api_rate_limit=2)
    client = app.test_client()
    address = {"REMOTE_ADDR": f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    answers = [client.get("/api/v1/me", environ_base=address) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert state(answers[0])[:3] == ("default", 2, 1)
    # A bad token is no way around it.
    bad = client.get("/api/v1/me", environ_base=address, headers={"Authorization": "Bearer x"})
    assert bad.status_code == 429


def test_redis_down_lets_requests_through(make_app, tenant: TenantFixture) -> None:
    """Fail open: without Redis the API answers, uncounted, and the metrics say so."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        app = make_app(redis_url=f"redis://127.0.0.1:{probe.getsockname()[1]}/0")
    answers = [tenant.api("GET", "/api/v1/me", app=app) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].headers["RateLimit-Policy"] == '"default";q=100000;w=60'
    assert "RateLimit" not in answers[0].headers
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert "trellis_rate_limit_unchecked_total 2.0" in metrics


def test_a_budget_too_large_to_count_is_no_limit(make_app, tenant: TenantFixture) -> None:
    """A billion a minute is a request every 0.06 µs, finer than the clock in Redis can
    tell apart: every request goes through, none fails."""
    app = make_app(api_rate_limit=1_000_000_000)
    answers = [tenant.api("GET", "/api/v1/me", app=app) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert all(state(a)[1] == 1_000_000_000 for a in answers)
