"""Security headers on the pages and the API, and templates the CSP does not break."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import TenantFixture
from flask import Flask
from helpers import login

import trellis.ui_templates

CSP = (
    "default-src 'self'; script-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
TEMPLATES = Path(trellis.ui_templates.__file__).parent / "templates"


def assert_page_headers(response: Any) -> None:
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_carry_the_security_headers(app: Flask, tenant: TenantFixture) -> None:
    browser = app.test_client()
    assert_page_headers(browser.get("/login"))
    missing = browser.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "Request id" in missing.get_data(as_text=True)
    assert_page_headers(missing)
    assert_page_headers(browser.get("/api/docs"))
    assert login(browser, tenant).status_code == 302
    home = browser.get("/")
    assert home.status_code == 200
    assert_page_headers(home)


def test_json_responses_carry_nosniff_only(tenant: TenantFixture, client: Any) -> None:
    for response in (tenant.api("GET", "/api/v1/me"), client.get("/api/v1/me")):
        assert response.is_json
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "X-Frame-Options" not in response.headers


def test_hsts_only_over_tls(app: Flask) -> None:
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    secure = app.test_client().get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_docs_page_script_and_styles_are_static_files(client: Any) -> None:
    html = client.get("/api/docs").get_data(as_text=True)
    for asset in ("/static/api_docs.js", "/static/api_docs.css"):
        assert f'"{asset}"' in html
        response = client.get(asset)
        assert response.status_code == 200 and response.data
        response.close()


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("**/*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script_or_handlers(template: Path) -> None:
    source = template.read_text()
    for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", source, re.S):
        # A JSON data block is never executed, so the CSP allows it.
        if 'type="application/json"' not in attributes:
            assert "src=" in attributes and not body.strip(), f"inline script in {template.name}"
    assert not re.search(r"<style\b", source), f"inline style element in {template.name}"
    assert not re.search(r"\son[a-z]+\s*=", source, re.I), f"event handler in {template.name}"
