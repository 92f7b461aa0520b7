"""The browser test rig: Playwright for Python driving Debian's chromium, headless,
against the real app served on a free port.

- ``live_server``: the app (create_app with the test settings, plus the failing-page
  plugin) behind werkzeug's threaded server, in a thread of this process.
- ``page``: a fresh browser context and page, 1280 px wide; a script error or a
  Content-Security-Policy violation in the console fails the test.
- ``sign_in(page, tenant_slug, email, password)``: signs in through the login form;
  ``admin_page`` is a page signed in as the tenant's administrator.
- ``assert_accessible(page)``: axe-core (axe-playwright-python) over the page; prints
  every violation and fails on a serious or critical one.
- ``screenshot(page, name)``: full-page PNGs at 1280 and 375 px under tests/artifacts/.
- ``live_worker``: a Celery worker for the browser's server (imports run as jobs).

The browser is /usr/bin/chromium (``apt-get install chromium``; never ``playwright
install``). Without it the tests skip, unless TRELLIS_REQUIRE_BROWSER=1 (CI), where
they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import failing_page_plugin
import pytest
from conftest import TenantFixture, serving, start_worker, stop_worker
from flask import Flask

from trellis.config import load_config
from trellis.runtime.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTHS = (1280, 375)
HEIGHT = 800
FAILING_IMPACTS = {"serious", "critical"}


def _unavailable(reason: str) -> None:
    if os.environ.get("TRELLIS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; TRELLIS_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def live_server(app: Flask, test_settings: dict[str, Any]) -> Iterator[str]:
    """The base URL of the app served for the browser (``app`` has migrated the database)."""
    served = create_app(load_config(test_settings, environ={}), plugins=[failing_page_plugin])
    with serving(served) as base_url:
        yield base_url
    served.extensions["trellis"].close()


@pytest.fixture()
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server, viewport={"width": WIDTHS[0], "height": HEIGHT}
    )
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    opened.on("console", lambda message: _console_problem(message, problems))
    opened.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} for {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    yield opened
    context.close()
    assert problems == [], "the page logged errors or failed to load a resource"


def _console_problem(message: Any, problems: list[str]) -> None:
    """Console errors fail the test (a CSP violation is one), except chromium's note that
    an error page's document came with its error status."""
    if message.type != "error":
        return
    failed_load = message.text.startswith("Failed to load resource")
    if failed_load and message.location.get("url") == message.page.url:
        return
    problems.append(f"console error: {message.text}")


def _sign_in(page: Any, tenant_slug: str, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Workspace").fill(tenant_slug)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text() == "Home"


@pytest.fixture()
def sign_in() -> Callable[[Any, str, str, str], None]:
    return _sign_in


@pytest.fixture()
def admin_page(page: Any, tenant: TenantFixture) -> Any:
    _sign_in(page, tenant.slug, tenant.admin_email, tenant.admin_password)
    return page


def _assert_accessible(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    if violations:
        print(f"axe on {page.url}:\n{results.generate_report()}")
    failing = [v["id"] for v in violations if v.get("impact") in FAILING_IMPACTS]
    assert failing == [], f"serious or critical accessibility violations on {page.url}"


@pytest.fixture()
def assert_accessible() -> Callable[[Any], None]:
    return _assert_accessible


def _screenshot(page: Any, name: str) -> list[Path]:
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), "name screenshots in kebab-case"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    saved = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        path = ARTIFACTS / f"{name}-{width}.png"
        # From the top: a full-page capture of a scrolled page draws sticky parts (the
        # Setup sidebar) where the scroll left them.
        scrolled = page.evaluate("[window.scrollX, window.scrollY]")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        page.evaluate("([x, y]) => window.scrollTo(x, y)", scrolled)
        saved.append(path)
    page.set_viewport_size(original)
    return saved


@pytest.fixture()
def screenshot() -> Callable[[Any, str], list[Path]]:
    return _screenshot


@pytest.fixture()
def live_worker(app: Flask, test_settings: dict[str, Any], live_server: str) -> Iterator[None]:
    """A worker on the Redis namespace of the browser's server, for this test only. The
    tasks earlier tests left queued there (no worker runs that namespace) are dropped
    first: behind a whole suite's backlog, the worker would not answer in time."""
    app.extensions["celery"].control.purge()
    process = start_worker(test_settings)
    try:
        app.extensions["celery"].tasks["trellis.ping"].delay("ready").get(timeout=120)
        yield
    finally:
        stop_worker(process)
