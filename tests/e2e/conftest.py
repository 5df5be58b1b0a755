"""Playwright in headless Chromium (Debian's, not Playwright's download) against pytest-django's
live_server."""

import os

import pytest

from tests.conftest import CHROMIUM

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(trylast=True)  # after pytest-django's own reordering
def pytest_collection_modifyitems(items):
    """Run browser tests last: once Playwright has started, its event loop runs on the main thread until
    the session ends, so Django must be told (below) that sync ORM calls are fine, and no other test
    (nor the processes they start, which inherit the environment) should run with that setting."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session", autouse=True)
def patient_assertions():
    """A loaded 2-core machine can take seconds to answer; a real bug still fails, only later."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running on this thread, which Django's
    # async-unsafe check mistakes for async code calling the ORM. Nothing here is async.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) whose requests may only reach the live server.

    Anything else (a CDN, sentry.io) is aborted and listed in `page.outside_requests`;
    responses of 400 and over are listed in `page.failed_responses`.
    """
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.outside_requests, page.failed_responses, page.console_errors = [], [], []

    def only_live_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            page.outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_live_server)
    page.on("response", lambda r: r.status >= 400 and page.failed_responses.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    yield page
    context.close()


@pytest.fixture
def csp_violations(page):
    """Every `securitypolicyviolation` the pages raise, as "directive blocked-uri source:line" (issue 18)."""
    violations = []
    page.expose_function("reportCspViolation", lambda violation: violations.append(violation))
    # Init scripts run through DevTools, before the page's own, and are not subject to its policy.
    page.add_init_script("""document.addEventListener("securitypolicyviolation", (e) =>
        reportCspViolation(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));""")
    return violations
