"""Two-factor sign-in: enrolment, the code step of a browser sign-in, replay, recovery
codes, the lockout, switching it off, and a tenant that requires it."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from flask import Flask
from flask.testing import FlaskClient
from helpers import assert_envelope, csrf_token, enable_mfa, totp_code

from trellis.identity.tables import user_sessions, users
from trellis.identity.users import create_user

MEMBER_PASSWORD = "member passphrase 42"


@dataclasses.dataclass
class Browser:
    """One browser of one user, from an address of its own (the limiter counts per
    address too, and the test run shares one Redis)."""

    client: FlaskClient
    tenant: TenantFixture
    email: str
    password: str

    def password_step(self, password: str | None = None) -> Any:
        page = self.client.get("/login").get_data(as_text=True)
        data = {
            "csrf_token": csrf_token(page),
            "tenant": self.tenant.slug,
            "email": self.email,
            "password": password or self.password,
        }
        return self.client.post("/login", data=data)

    def code_step(self, code: str) -> Any:
        page = self.client.get("/login/code").get_data(as_text=True)
        return self.client.post("/login/code", data={"csrf_token": csrf_token(page), "code": code})

    def sign_in(self, code: str) -> Any:
        assert self.password_step().headers["Location"] == "/login/code"
        return self.code_step(code)

    def csrf(self) -> str:
        return csrf_token(self.client.get("/account/security").get_data(as_text=True))

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf()} if method != "GET" else {}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def sign_out(self) -> None:
        assert self.client.post("/logout", data={"csrf_token": self.csrf()}).status_code == 302

    def signed_in(self) -> bool:
        return self.client.get("/api/v1/me").status_code == 200


def new_browser(app: Flask, tenant: TenantFixture, email: str, password: str) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"2001:db8::{uuid.uuid4().hex[:4]}"
    return Browser(client, tenant, email, password)


@pytest.fixture()
def browser(app: Flask, tenant: TenantFixture) -> Browser:
    """The tenant's administrator, signed in with the password."""
    found = new_browser(app, tenant, tenant.admin_email, tenant.admin_password)
    assert found.password_step().headers["Location"] == "/"
    return found


@pytest.fixture()
def member(app: Flask, tenant: TenantFixture) -> Browser:
    """A user who is not an administrator, not signed in yet."""
    email = f"member@{tenant.slug}.test"
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        create_user(connection, tenant.actor, email=email, password=MEMBER_PASSWORD)
    return new_browser(app, tenant, email, MEMBER_PASSWORD)


def wrong_code(secret: str) -> str:
    """A well-formed code that is none of those accepted now."""
    accepted = {totp_code(secret, offset) for offset in (-2, -1, 0, 1, 2)}
    return next(code for code in (f"{n:06d}" for n in range(10)) if code not in accepted)


def mfa_status(browser: Browser) -> dict[str, Any]:
    response = browser.client.get("/api/v1/me/mfa")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_enrolment_is_on_only_after_a_confirming_code(browser: Browser) -> None:
    assert mfa_status(browser)["enabled"] is False
    started = browser.api("POST", "/api/v1/me/mfa")
    assert started.status_code == 201
    secret, uri = started.get_json()["secret"], started.get_json()["provisioning_uri"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert browser.tenant.slug in uri
    assert mfa_status(browser) | {"enabled_at": None} == {
        "enabled": False,
        "enabled_at": None,
        "enrolment_pending": True,
        "recovery_codes_left": 0,
        "required": False,
    }
    refused = browser.api("POST", "/api/v1/me/mfa/confirm", json={"code": wrong_code(secret)})
    assert assert_envelope(refused, 422, "mfa_code_invalid")["errors"]["code"]
    assert mfa_status(browser)["enabled"] is False
    body = assert_envelope(browser.api("POST", "/api/v1/me/mfa/confirm", json={}), 422)
    assert "code" in body["errors"]

    confirmed = browser.api("POST", "/api/v1/me/mfa/confirm", json={"code": totp_code(secret)})
    assert confirmed.status_code == 200
    codes = confirmed.get_json()["recovery_codes"]
    assert len(set(codes)) == 10 and all(re.fullmatch(r"[a-z2-7]{5}-[a-z2-7]{5}", c) for c in codes)
    status = mfa_status(browser)
    assert status["enabled"] is True and status["recovery_codes_left"] == 10
    assert browser.signed_in()  # the session that confirmed stays
    assert_envelope(browser.api("POST", "/api/v1/me/mfa"), 409, "mfa_already_enabled")


def test_sign_in_needs_the_code_after_the_password(app: Flask, browser: Browser) -> None:
    secret, _ = enable_mfa(browser.client, browser.csrf())
    browser.sign_out()
    other = new_browser(app, browser.tenant, browser.email, browser.password)
    assert other.password_step().headers["Location"] == "/login/code"
    # The password alone is no session: no page, no API, no token.
    assert other.client.get("/").headers["Location"] == "/login"
    assert_envelope(other.client.get("/api/v1/me"), 401)
    assert_envelope(other.client.post("/api/v1/tokens", json={"name": "x"}), 401)
    refused = other.code_step(wrong_code(secret))
    assert refused.status_code == 401 and "not correct" in refused.get_data(as_text=True)
    assert not other.signed_in()

    accepted = other.code_step(totp_code(secret, 1))
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/"
    assert other.signed_in()
    created = other.api("POST", "/api/v1/tokens", json={"name": "after mfa"})
    assert created.status_code == 201


def test_a_code_is_accepted_once(app: Flask, browser: Browser) -> None:
    secret, _ = enable_mfa(browser.client, browser.csrf())
    browser.sign_out()
    code = totp_code(secret, 1)
    assert browser.sign_in(code).headers["Location"] == "/"
    browser.sign_out()
    assert browser.sign_in(code).status_code == 401
    assert browser.code_step(totp_code(secret, 0)).status_code == 401  # an older step
    assert not browser.signed_in()


def test_a_recovery_code_signs_in_once(app: Flask, browser: Browser) -> None:
    _, codes = enable_mfa(browser.client, browser.csrf())
    browser.sign_out()
    assert browser.sign_in(codes[0]).headers["Location"] == "/"
    assert mfa_status(browser)["recovery_codes_left"] == 9
    browser.sign_out()
    assert browser.sign_in(codes[0]).status_code == 401
    # Typed the way people do: upper case, spaces instead of the hyphen.
    assert browser.code_step(codes[1].upper().replace("-", " ")).headers["Location"] == "/"
    assert mfa_status(browser)["recovery_codes_left"] == 8


def test_recovery_codes_are_stored_only_hashed(app: Flask, browser: Browser) -> None:
    _, codes = enable_mfa(browser.client, browser.csrf())
    with app.extensions["trellis"].database.tenant(browser.tenant.id) as connection:
        stored = connection.execute(
            sa.select(users.c.mfa_recovery_codes).where(users.c.email == browser.email)
        ).scalar_one()
    expected = {hashlib.sha256(code.replace("-", "").encode()).digest() for code in codes}
    assert {bytes(value) for value in stored} == expected
    assert not any(
        code.replace("-", "").encode() in bytes(value) for code in codes for value in stored
    )


def test_wrong_codes_count_toward_the_login_lockout(make_app: Any, tenant: TenantFixture) -> None:
    app = make_app(login_attempts=2)
    browser = new_browser(app, tenant, tenant.admin_email, tenant.admin_password)
    browser.password_step()
    secret, _ = enable_mfa(browser.client, browser.csrf())
    browser.sign_out()
    assert browser.sign_in(wrong_code(secret)).status_code == 401
    # A right password again does not reset the count of wrong codes.
    assert browser.sign_in(wrong_code(secret)).status_code == 401
    assert browser.code_step(totp_code(secret, 1)).status_code == 429
    assert browser.password_step().status_code == 429
    assert not browser.signed_in()


def test_a_pending_sign_in_expires(app: Flask, browser: Browser) -> None:
    secret, _ = enable_mfa(browser.client, browser.csrf())
    browser.sign_out()
    assert browser.password_step().headers["Location"] == "/login/code"
    with app.extensions["trellis"].database.tenant(browser.tenant.id) as connection:
        connection.execute(
            user_sessions.update()
            .where(user_sessions.c.mfa_pending)
            .values(expires_at=sa.func.now() - sa.text("interval '1 second'"))
        )
    response = browser.code_step(totp_code(secret, 1))
    assert response.headers["Location"] == "/login"
    assert not browser.signed_in()
    # Without a pending sign-in the code page sends the browser back to the password.
    assert browser.client.get("/login/code").headers["Location"] == "/login"


def test_api_tokens_cannot_manage_two_factor_sign_in(tenant: TenantFixture) -> None:
    assert_envelope(tenant.api("GET", "/api/v1/me/mfa"), 403, "session_required")
    assert_envelope(tenant.api("POST", "/api/v1/me/mfa"), 403, "session_required")
    refused = tenant.api("DELETE", "/api/v1/me/mfa", json={"code": "123456"})
    assert_envelope(refused, 403, "session_required")


def test_enabling_ends_the_users_other_sessions(app: Flask, browser: Browser) -> None:
    elsewhere = new_browser(app, browser.tenant, browser.email, browser.password)
    elsewhere.password_step()
    assert elsewhere.signed_in()
    enable_mfa(browser.client, browser.csrf())
    assert browser.signed_in()
    assert not elsewhere.signed_in()


def test_new_recovery_codes_and_switching_off(browser: Browser) -> None:
    secret, old_codes = enable_mfa(browser.client, browser.csrf())
    path = "/api/v1/me/mfa/recovery-codes"
    refused = browser.api("POST", path, json={"code": wrong_code(secret)})
    assert_envelope(refused, 422, "mfa_code_invalid")
    renewed = browser.api("POST", path, json={"code": old_codes[0]})
    assert renewed.status_code == 200
    new_codes = renewed.get_json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    # The old set is gone: one of it no longer switches anything off.
    assert_envelope(browser.api("DELETE", "/api/v1/me/mfa", json={"code": old_codes[1]}), 422)
    assert mfa_status(browser)["enabled"] is True
    switched = browser.api("DELETE", "/api/v1/me/mfa", json={"code": totp_code(secret, 1)})
    assert switched.status_code == 204
    assert mfa_status(browser)["enabled"] is False
    assert_envelope(browser.api("DELETE", "/api/v1/me/mfa", json={"code": "1"}), 409)
    browser.sign_out()
    assert browser.password_step().headers["Location"] == "/"


def test_a_tenant_requirement_allows_only_enrolment(tenant: TenantFixture, member: Browser) -> None:
    turned_on = tenant.api("PUT", "/api/v1/tenant/security", json={"require_mfa": True})
    assert turned_on.status_code == 200 and turned_on.get_json() == {"require_mfa": True}
    assert tenant.api("GET", "/api/v1/tenant/security").get_json() == {"require_mfa": True}
    assert tenant.api("GET", "/api/v1/me").status_code == 200  # tokens are not affected

    assert member.password_step().headers["Location"] == "/"
    assert member.client.get("/").headers["Location"] == "/account/security"
    assert_envelope(member.client.get("/api/v1/me"), 403, "mfa_enrolment_required")
    blocked = member.api("POST", "/api/v1/tokens", json={"name": "x"})
    assert_envelope(blocked, 403, "mfa_enrolment_required")
    assert_envelope(member.client.get("/api/v1/meta/objects"), 403, "mfa_enrolment_required")
    assert mfa_status(member)["required"] is True
    assert "requires two-factor" in member.client.get("/account/security").get_data(as_text=True)

    enable_mfa(member.client, member.csrf())
    assert member.signed_in() and member.client.get("/").status_code == 200
    assert member.api("POST", "/api/v1/tokens", json={"name": "x"}).status_code == 201
    refused = member.api("PUT", "/api/v1/tenant/security", json={"require_mfa": False})
    assert_envelope(refused, 403, "forbidden")
    member.sign_out()


def test_tenant_security_rejects_bad_input(tenant: TenantFixture) -> None:
    for body in ({"require_mfa": "yes"}, {"require_mfa": True, "other": 1}, {}):
        refused = tenant.api("PUT", "/api/v1/tenant/security", json=body)
        assert assert_envelope(refused, 422)["errors"]
    assert tenant.api("GET", "/api/v1/tenant/security").get_json() == {"require_mfa": False}


def test_the_mfa_events_are_audited(app: Flask, browser: Browser, tenant: TenantFixture) -> None:
    secret, codes = enable_mfa(browser.client, browser.csrf())
    browser.sign_out()
    assert browser.sign_in(wrong_code(secret)).status_code == 401
    assert browser.code_step(codes[0]).headers["Location"] == "/"
    path = "/api/v1/me/mfa/recovery-codes"
    renewed = browser.api("POST", path, json={"code": totp_code(secret, 1)})
    assert renewed.status_code == 200
    tenant.api("PUT", "/api/v1/tenant/security", json={"require_mfa": True})
    tenant.api("PUT", "/api/v1/tenant/security", json={"require_mfa": True})  # no change
    code = renewed.get_json()["recovery_codes"][0]
    assert browser.api("DELETE", "/api/v1/me/mfa", json={"code": code}).status_code == 204

    def events(action: str) -> list[dict[str, Any]]:
        found = tenant.api("GET", "/api/v1/audit", query_string={"action": action})
        return found.get_json()["data"]

    for action in ("mfa.enabled", "login.mfa_failed", "mfa.recovery_codes_regenerated"):
        [event] = events(action)
        assert event["actor_id"] == str(tenant.admin_id), action
        assert event["target_id"] == str(tenant.admin_id), action
    [used] = events("login.recovery_code_used")
    assert used["details"] == {"recovery_codes_left": 9}
    [changed] = events("tenant.mfa_required_changed")
    assert changed["details"] == {"require_mfa": True, "via": "api"}
    assert changed["target_id"] == str(tenant.id)
    [disabled] = events("mfa.disabled")
    assert disabled["details"] == {"proven_with": "recovery_code", "via": "api"}
    logins = events("login.succeeded")
    assert [event["details"] for event in logins] == [{"second_factor": "recovery_code"}, {}]


def test_enrolment_in_the_browser(browser: Browser) -> None:
    page = browser.client.get("/account/security").get_data(as_text=True)
    assert "is <strong>off</strong>" in page
    enrol = browser.client.post("/account/security/enrol", data={"csrf_token": browser.csrf()})
    assert enrol.headers["Location"] == "/account/security"
    page = browser.client.get("/account/security").get_data(as_text=True)
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert found is not None and "otpauth://totp/" in page
    secret = found.group(1)

    def post(action: str, code: str) -> Any:
        data = {"csrf_token": browser.csrf(), "code": code}
        return browser.client.post(f"/account/security/{action}", data=data)

    refused = post("confirm", wrong_code(secret))
    assert refused.status_code == 422 and "not correct" in refused.get_data(as_text=True)
    confirmed = post("confirm", totp_code(secret))
    shown = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", confirmed.get_data(as_text=True))
    assert confirmed.status_code == 200 and len(shown) == 10
    page = browser.client.get("/account/security").get_data(as_text=True)
    assert "is <strong>on</strong>" in page and shown[0] not in page
    switched = post("disable", shown[0])
    assert switched.headers["Location"] == "/account/security"
    assert mfa_status(browser)["enabled"] is False


def test_starting_over_ends_the_pending_sign_in(app: Flask, browser: Browser) -> None:
    enable_mfa(browser.client, browser.csrf())
    browser.sign_out()
    for _ in range(2):
        assert browser.password_step().headers["Location"] == "/login/code"
    with app.extensions["trellis"].database.tenant(browser.tenant.id) as connection:
        pending = connection.execute(
            sa.select(sa.func.count()).where(user_sessions.c.mfa_pending)
        ).scalar_one()
    assert pending == 1
