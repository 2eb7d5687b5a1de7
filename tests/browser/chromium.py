"""Headless Chromium for the browser tests: found on the machine, started the same way.

Runs where Chromium and its driver are installed (`make browser-deps`; CI installs them);
`needs_chromium` skips the tests elsewhere with the reason.
"""

import shutil
from collections.abc import Iterable

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Chromium and chromedriver: run `make browser-deps`"
)

# Headless, and quiet: no background calls home that this machine's closed network refuses.
ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def start_chromium(
    *, arguments: Iterable[str] = (), capabilities: dict | None = None, language: str | None = None
):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*ARGUMENTS, *arguments):
        options.add_argument(argument)
    for name, value in (capabilities or {}).items():
        options.set_capability(name, value)
    if language:
        # The browser's language, as a Brazilian store manager's: its Accept-Language header.
        options.add_argument(f"--lang={language}")
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
