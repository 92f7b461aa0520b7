"""Bad input gets a clear 4xx in the envelope and changes nothing; no trace leaks."""

from __future__ import annotations

import http
from typing import Any

import sqlalchemy as sa
from conftest import TenantFixture
from flask import Blueprint, Flask
from helpers import assert_envelope

from trellis.hookspecs import hookimpl
from trellis.identity.tables import api_tokens


def token_count(app: Flask, tenant: TenantFixture) -> int:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar()


def test_malformed_json(app: Flask, tenant: TenantFixture) -> None:
    response = tenant.api(
        "POST", "/api/v1/tokens", data='{"name": "x",', content_type="application/json"
    )
    body = assert_envelope(response, 400, "malformed_json")
    assert "not valid JSON" in body["error"]
    assert_envelope(
        tenant.api("POST", "/api/v1/tokens", data=b"\xff\xfe", content_type="application/json"),
        400,
        "malformed_json",
    )
    assert_envelope(tenant.api("POST", "/api/v1/tokens", json=["name"]), 400, "malformed_json")
    assert token_count(app, tenant) == 1


def test_wrong_content_type(app: Flask, tenant: TenantFixture) -> None:
    response = tenant.api(
        "POST", "/api/v1/tokens", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_envelope(response, 415, "unsupported_media_type")
    assert token_count(app, tenant) == 1


def test_oversized_body(make_app, tenant: TenantFixture) -> None:
    app = make_app(max_body_bytes=1024)
    client = app.test_client()
    response = client.post("/api/v1/tokens", headers=tenant.headers(), json={"name": "x" * 5000})
    assert_envelope(response, 413)
    assert token_count(app, tenant) == 1


def test_unknown_route_and_method(tenant: TenantFixture) -> None:
    assert_envelope(tenant.api("GET", "/api/v1/no-such-thing"), 404, "not_found")
    response = tenant.api("PUT", "/api/v1/me")
    assert_envelope(response, 405)
    assert "GET" in response.headers["Allow"]


def test_row_ids_out_of_range_are_unknown(tenant: TenantFixture) -> None:
    """Ids in URLs are bigints: a larger number is a 404 like any unknown id, never an
    overflow error from PostgreSQL."""
    huge = str(2**64)
    for method, path in (
        ("GET", f"/api/v1/automation-runs/{huge}"),
        ("POST", f"/api/v1/automation-runs/{huge}/replay"),
        ("GET", f"/api/v1/meta/revisions/{huge}"),
        ("GET", "/api/v1/automation-runs/0"),
    ):
        assert_envelope(tenant.api(method, path), 404)
    for path in (f"/api/v1/automation-runs/{2**63 - 1}", f"/api/v1/meta/revisions/{2**63 - 1}"):
        assert_envelope(tenant.api("GET", path), 404)


def test_bad_query_parameters_are_400s_naming_them(tenant: TenantFixture) -> None:
    """Page sizes and cursors are ASCII whole numbers within a bigint ("²".isdigit() is
    true in Python), and no query parameter may hold a NUL, which PostgreSQL cannot compare
    text with: each is a 400 naming the parameter, never a 500 or a database error."""
    huge = str(2**70)
    cases = [
        ("/api/v1/automation-runs?limit=%C2%B2", "limit"),
        ("/api/v1/automation-runs?cursor=%C2%B2", "cursor"),
        (f"/api/v1/automation-runs?cursor={huge}", "cursor"),
        ("/api/v1/automation-runs?automation=a%00b", "automation"),
        ("/api/v1/automation-runs?trigger=%00", "trigger"),
        ("/api/v1/meta/revisions?before=%C2%B2", "before"),
        ("/api/v1/webhooks?x%00=1", "query"),
    ]
    for path, name in cases:
        response = tenant.api("GET", path)
        assert_envelope(response, 400, "bad_request")
        assert list(response.get_json()["errors"]) == [name], path


def test_html_error_page_for_browsers(client) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_html_error_page_shows_the_request_id(make_app) -> None:
    """The page names the id the X-Request-ID header and the log lines carry, so a
    user has something to quote; the 500 page's message promises it."""
    client = make_app(plugins=[Crashing()]).test_client()
    missing = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert missing.headers["X-Request-ID"] in missing.get_data(as_text=True)
    crashed = client.get(
        "/crash-page", headers={"Accept": "text/html", "X-Request-ID": "req-87654321"}
    )
    assert crashed.status_code == 500 and crashed.mimetype == "text/html"
    page = crashed.get_data(as_text=True)
    assert crashed.headers["X-Request-ID"] == "req-87654321" and "req-87654321" in page
    assert "secret internal detail" not in page


class Crashing:
    @hookimpl
    def register_blueprints(self) -> list:
        blueprint = Blueprint("crash", __name__)

        @blueprint.get("/api/v1/crash")
        @blueprint.get("/crash-page")
        def crash() -> str:
            raise RuntimeError("secret internal detail")

        return [blueprint]


def test_unexpected_errors_hide_the_trace(make_app, tenant: TenantFixture) -> None:
    app = make_app(plugins=[Crashing()])
    response = app.test_client().get("/api/v1/crash", headers={"X-Request-ID": "req-12345678"})
    body = assert_envelope(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text
    assert body["request_id"] == "req-12345678"


def test_request_id_is_generated_or_kept(client) -> None:
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc"}).headers["X-Request-ID"] != "abc"
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-req-0001"})
    assert kept.headers["X-Request-ID"] == "lb-req-0001"


def test_statements_run_on_the_driver_fail_as_sqlalchemy_errors(
    app: Flask, tenant: TenantFixture
) -> None:
    """Hot statements bypass SQLAlchemy's execution layer; their database errors must still
    arrive as SQLAlchemy's (which the API maps to 4xx), not as raw driver exceptions."""
    import uuid

    import pytest

    from trellis.db import driver_execute
    from trellis.identity.tables import tenants

    duplicate = tenants.insert().values(
        id=sa.bindparam("id"), slug=sa.bindparam("slug"), name=sa.bindparam("name")
    )
    with app.extensions["trellis"].database.owner() as connection:
        with pytest.raises(sa.exc.IntegrityError):
            driver_execute(
                connection,
                duplicate,
                {"id": tenant.id, "slug": f"x-{uuid.uuid4().hex[:8]}", "name": "x"},
            )


def test_problem_details_when_the_client_asks_for_them(tenant: TenantFixture) -> None:
    """RFC 9457: the same error, as problem details, when Accept prefers them; the
    envelope's fields stay as extension members. Plain JSON otherwise, as before."""
    invalid = {"name": ""}
    for accept in (
        "application/problem+json",
        "application/json;q=0.5, application/problem+json",
        "application/problem+json, */*;q=0.1",
    ):
        response = tenant.api("POST", "/api/v1/tokens", json=invalid, headers={"Accept": accept})
        assert response.status_code == 422, accept
        assert response.mimetype == "application/problem+json", accept
        body = response.get_json(force=True)
        assert body["type"] == "about:blank" and body["title"] == http.HTTPStatus(422).phrase
        assert body["status"] == 422 and body["instance"] == "/api/v1/tokens"
        assert body["detail"] == body["error"] and body["code"] == "validation_error"
        assert body["ok"] is False and "name" in body["errors"]
        assert body["request_id"] == response.headers["X-Request-ID"]
        assert "Accept" in response.headers["Vary"]
    for accept in (None, "*/*", "application/json", "application/problem+json;q=0.2, */*"):
        headers = {"Accept": accept} if accept else {}
        response = tenant.api("POST", "/api/v1/tokens", json=invalid, headers=headers)
        assert response.mimetype == "application/json", accept
        body = assert_envelope(response, 422, "validation_error")
        assert "type" not in body and "title" not in body
    missing = tenant.api(
        "GET", "/api/v1/no-such-thing", headers={"Accept": "application/problem+json"}
    )
    assert missing.mimetype == "application/problem+json"
    assert (missing.status_code, missing.get_json(force=True)["title"]) == (404, "Not Found")


def test_unauthorized_answers_carry_a_bearer_challenge(client: Any) -> None:
    """RFC 6750: every 401 names the scheme and realm; a token that was sent but is not
    valid adds error="invalid_token"."""
    anonymous = client.get("/api/v1/me")
    assert_envelope(anonymous, 401, "unauthorized")
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="trellis"'
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer trl_nope"})
    assert_envelope(bad, 401, "unauthorized")
    assert bad.headers["WWW-Authenticate"] == 'Bearer realm="trellis", error="invalid_token"'
    problem = client.get(
        "/api/v1/me",
        headers={"Authorization": "Bearer trl_nope", "Accept": "application/problem+json"},
    )
    assert problem.status_code == 401 and "invalid_token" in problem.headers["WWW-Authenticate"]
