"""The API docs pages in a real headless Chromium: they render every operation, and no
request leaves the machine — every asset, the schema included, comes from the application.

Runs where Chromium and its driver are installed (`make browser-deps`; CI installs them);
skipped elsewhere with the reason.
"""

import json
import time
from urllib.parse import urlparse

import pytest
from django.test import modify_settings

from tests.browser.chromium import needs_chromium, start_chromium

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# A name like a deployment's, which Chromium resolves to the test server: Swagger UI, for
# one, behaves differently on pages served from `localhost`.
DEPLOYED_HOST = "docs.test"

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.fixture
def browser():
    driver = start_chromium(
        arguments=[
            # Any other name resolves nowhere, so a page that tries to reach out fails fast
            # instead of waiting on the network; the attempt is still in the performance log.
            f"--host-resolver-rules=MAP {DEPLOYED_HOST} 127.0.0.1, MAP * ~NOTFOUND, "
            "EXCLUDE localhost, EXCLUDE 127.0.0.1",
        ],
        capabilities={"goog:loggingPrefs": {"performance": "ALL"}},
    )
    yield driver
    driver.quit()


def requested_urls(browser, quiet_seconds: float = 1.5, limit_seconds: float = 10) -> list[str]:
    """Every URL the page asked for, read from the performance log until no new request
    has come for `quiet_seconds` (images and fonts may be asked for after the render)."""
    urls: list[str] = []
    deadline = time.monotonic() + limit_seconds
    last_request = time.monotonic()
    while time.monotonic() - last_request < quiet_seconds and time.monotonic() < deadline:
        for entry in browser.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
                last_request = time.monotonic()
            elif message["method"] == "Network.webSocketCreated":
                urls.append(message["params"]["url"])
                last_request = time.monotonic()
        time.sleep(0.2)
    return urls


def leaving_the_machine(urls: list[str], host: str) -> list[str]:
    return [
        url
        for url in urls
        if urlparse(url).scheme not in ("data", "blob") and urlparse(url).hostname not in LOCAL_HOSTS | {host}
    ]


def wait_for_all(browser, css: str, at_least: int):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def enough(driver):
        found = driver.find_elements(By.CSS_SELECTOR, css)
        return found if len(found) >= at_least else False

    return WebDriverWait(browser, 20).until(enough, f"fewer than {at_least} elements match {css!r}")


def schema_operations(anonymous) -> int:
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    return sum(len(operations) for operations in schema["paths"].values())


@pytest.fixture(params=["localhost", DEPLOYED_HOST])
def docs_url(request, live_server):
    """The live server's address, under a local name and under a deployment-like one."""
    with modify_settings(ALLOWED_HOSTS={"append": DEPLOYED_HOST}):
        yield live_server.url.replace("localhost", request.param)


def test_swagger_ui_renders_every_operation_and_requests_nothing_outside(docs_url, browser, anonymous):
    operations = schema_operations(anonymous)

    browser.get(f"{docs_url}/api/docs/")
    rendered = wait_for_all(browser, ".opblock-summary-path", at_least=operations)
    urls = requested_urls(browser)

    assert len(rendered) == operations
    paths = {element.get_attribute("data-path") for element in rendered}
    assert {"/api/v2/auth/token", "/api/v1/accounts/integrations/promotions"} <= paths
    assert any(urlparse(url).path.rstrip("/") == "/api/schema" for url in urls)
    assert leaving_the_machine(urls, urlparse(docs_url).hostname) == []


def test_redoc_renders_every_operation_and_requests_nothing_outside(docs_url, browser, anonymous):
    operations = schema_operations(anonymous)

    browser.get(f"{docs_url}/api/redoc/")
    rendered = wait_for_all(browser, "[data-section-id^='operation/'] h2", at_least=operations)
    urls = requested_urls(browser)

    assert len(rendered) == operations
    assert "Generate the Bearer token" in {element.text.strip() for element in rendered}
    assert any(urlparse(url).path.rstrip("/") == "/api/schema" for url in urls)
    assert leaving_the_machine(urls, urlparse(docs_url).hostname) == []
