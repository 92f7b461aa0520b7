"""Browser sessions: rotated at login (no session fixation), and their cookie's flags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import TenantFixture
from flask import Flask
from helpers import assert_envelope, csrf_token, login

from trellis.config import load_config
from trellis.runtime.app import create_app

COOKIE = "trellis_session"


def session_cookie(client: Any) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def set_cookie_header(response: Any) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    assert len(headers) == 1, response.headers
    return headers[0]


def test_login_rotates_the_session_and_its_csrf_token(app: Flask, tenant: TenantFixture) -> None:
    browser = app.test_client()
    token_before = csrf_token(browser.get("/login").get_data(as_text=True))
    cookie_before = session_cookie(browser)
    assert login(browser, tenant).status_code == 302
    cookie_after = session_cookie(browser)
    assert cookie_after != cookie_before
    assert browser.get("/api/v1/me").status_code == 200

    replay = app.test_client()
    replay.set_cookie(COOKIE, cookie_before)
    assert_envelope(replay.get("/api/v1/me"), 401)
    assert replay.get("/").status_code == 302  # to the login page
    # The CSRF token from before login no longer passes with the new session.
    refused = browser.post("/logout", data={"csrf_token": token_before})
    assert refused.status_code == 403
    assert browser.get("/api/v1/me").status_code == 200


def test_a_second_login_ends_the_session_it_replaces(app: Flask, tenant: TenantFixture) -> None:
    browser = app.test_client()
    assert login(browser, tenant).status_code == 302
    first = session_cookie(browser)
    assert login(browser, tenant).status_code == 302
    assert session_cookie(browser) != first
    replay = app.test_client()
    replay.set_cookie(COOKIE, first)
    assert_envelope(replay.get("/api/v1/me"), 401)
    assert browser.get("/api/v1/me").status_code == 200


def test_the_cookie_is_written_when_the_session_changes_not_on_every_answer(
    app: Flask, tenant: TenantFixture
) -> None:
    """The session's row fixes its expiry at sign-in, so re-signing the cookie on every
    answer would only cost time; signing in, and signing out, do write it."""
    browser = app.test_client()
    assert "Set-Cookie" in login(browser, tenant).headers
    browser.get("/")  # the first page after signing in makes the session's CSRF token
    home = browser.get("/")
    assert home.status_code == 200
    assert "Set-Cookie" not in home.headers
    token = csrf_token(home.get_data(as_text=True))
    assert "Set-Cookie" in browser.post("/logout", data={"csrf_token": token}).headers
    assert browser.get("/").status_code == 302  # signed out: to the login page


def test_cookie_is_httponly_lax_and_secure_only_over_tls(app: Flask) -> None:
    # The test app has secure_cookies off, as in plain-HTTP development.
    plain = set_cookie_header(app.test_client().get("/login"))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    tls = set_cookie_header(app.test_client().get("/login", base_url="https://localhost"))
    assert "HttpOnly" in tls and "SameSite=Lax" in tls and "Secure" in tls


@pytest.fixture(scope="module")
def proxied_app(test_settings: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(load_config({**test_settings, "trusted_proxy": True}, environ={}))
    yield application
    application.extensions["trellis"].close()


def test_forwarded_proto_counts_only_behind_a_trusted_proxy(app: Flask, proxied_app: Flask) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    ignored = app.test_client().get("/login", headers=forwarded)
    assert "Secure" not in set_cookie_header(ignored)
    assert "Strict-Transport-Security" not in ignored.headers
    trusted = proxied_app.test_client().get("/login", headers=forwarded)
    assert "Secure" in set_cookie_header(trusted)
    assert "Strict-Transport-Security" in trusted.headers
    plain = proxied_app.test_client().get("/login")
    assert "Secure" not in set_cookie_header(plain)


def test_secure_cookies_setting_marks_the_cookie_secure_over_http(
    test_settings: dict[str, Any],
) -> None:
    application = create_app(load_config({**test_settings, "secure_cookies": True}, environ={}))
    try:
        header = set_cookie_header(application.test_client().get("/login"))
    finally:
        application.extensions["trellis"].close()
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
