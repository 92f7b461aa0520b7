"""Assertions shared by the tests."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import TYPE_CHECKING, Any

import pyotp
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo

from trellis.cli import cli

if TYPE_CHECKING:
    from conftest import TenantFixture


def assert_envelope(response: Any, status: int, code: str | None = None) -> dict:
    """Every API error uses one envelope; check it and return the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body is not None, "error responses must be JSON"
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], dict)
    assert body["request_id"] == response.headers["X-Request-ID"]
    if code is not None:
        assert body["code"] == code, body
    return body


def wait_for(predicate: Any, timeout: float = 60) -> Any:
    """Poll until ``predicate()`` is truthy (workers are asynchronous) and return its value;
    fail the test when it is still falsy after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {value!r}")
        time.sleep(0.2)


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "every form carries a CSRF token"
    return match.group(1)


def post_form(client: Any, url: str, form: dict[str, Any]) -> Any:
    """Post a screen's form as a browser does: with the CSRF token of the page at ``url``
    (which shows the form), asking for HTML."""
    html = {"Accept": "text/html"}
    token = csrf_token(client.get(url, headers=html).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **form}, headers=html)


def login(client, tenant: TenantFixture, password: str | None = None):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={
            "csrf_token": token,
            "tenant": tenant.slug,
            "email": tenant.admin_email,
            "password": password or tenant.admin_password,
        },
    )


def run_cli(app: Flask, *args: str) -> Result:
    """Run a ``trellis`` command against ``app`` (click's runner, in this process)."""
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def totp_code(secret: str, offset: int = 0) -> str:
    """The code of ``secret``'s current 30-second step, or of a step ``offset`` away (a
    code is accepted one step either side of now, and never twice)."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(dt.datetime.now(dt.UTC)) + offset)


def enable_mfa(client: Any, csrf: str) -> tuple[str, list[str]]:
    """Enrol the browser session's user and confirm with a current code; return the
    secret and the recovery codes."""
    started = client.post("/api/v1/me/mfa", headers={"X-CSRF-Token": csrf})
    assert started.status_code == 201, started.get_data(as_text=True)
    secret = started.get_json()["secret"]
    confirmed = client.post(
        "/api/v1/me/mfa/confirm", json={"code": totp_code(secret)}, headers={"X-CSRF-Token": csrf}
    )
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    return secret, confirmed.get_json()["recovery_codes"]
