"""Error pages for the browser: a friendly page with the request id, the shell when it
is safe to load, never a trace; the API keeps its JSON envelope."""

from __future__ import annotations

from typing import Any

import failing_page_plugin
import pytest
from conftest import TenantFixture
from helpers import assert_envelope
from screen_worlds import ScreensWorld, build_screens_world, sign_in

HTML = {"Accept": "text/html"}


@pytest.fixture()
def world(tenant: TenantFixture) -> ScreensWorld:
    return build_screens_world(tenant)


def page_of(response: Any, status: int) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<code>{response.headers['X-Request-ID']}</code>" in html
    assert "Traceback" not in html
    return html


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/o/Nothing", 404, "Page not found"),
        ("/o/Secret", 403, "You may not read Secret records."),
        ("/o/Account?view=nothing", 404, "Accounts has no list view named nothing."),
        ("/o/Deal/anything", 404, "No record anything."),
        ("/no/such/page", 404, "Page not found"),
    ],
)
def test_pages_that_are_not_there_or_not_allowed(
    world: ScreensWorld, client: Any, path: str, status: int, words: str
) -> None:
    sign_in(client, world.tenant, world.rep_email, world.password)
    html = page_of(client.get(path, headers=HTML), status)
    assert words in html
    assert 'aria-label="Objects"' in html  # the shell, with its navigation


def test_an_unexpected_error_shows_no_detail(make_app: Any, tenant: TenantFixture) -> None:
    app = make_app(plugins=(failing_page_plugin,))
    client = app.test_client()
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    html = page_of(client.get("/test/fails", headers=HTML), 500)
    assert "Something went wrong" in html
    assert failing_page_plugin.SECRET_DETAIL not in html and "RuntimeError" not in html
    # The shell's queries are not run for a failure of our own: no navigation.
    assert 'aria-label="Objects"' not in html and "Sign out" in html
    body = assert_envelope(
        client.get("/test/fails", headers={"Accept": "application/json"}), 500, "internal_error"
    )
    assert failing_page_plugin.SECRET_DETAIL not in str(body)


def test_screens_send_a_signed_out_visitor_to_sign_in(client: Any) -> None:
    for path in ("/", "/search?q=acme", "/o/Account", "/o/Account/123"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 302 and response.headers["Location"] == "/login", path
