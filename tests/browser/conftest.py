"""Fixtures of the dashboard's browser tests (see harness.py for what runs).

Without chromium or chromedriver the tests skip, unless CI=true: then they fail, so CI never
passes without having run them.
"""

import os

import harness
import pytest


@pytest.fixture(scope="session")
def browser_installed() -> None:
    reason = harness.missing_browser()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, browser_installed) -> harness.Dashboard:
    """The service for one test module (started once: starting it per test would triple the
    suite's time, and every test reads only data it made or the module's scene)."""
    with harness.serve_dashboard(tmp_path_factory.mktemp("switchboard-dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def driver(browser_installed):
    """One desktop-sized headless chromium for a test module; tests sign in afresh."""
    driver = harness.new_driver()
    try:
        yield driver
    finally:
        driver.quit()
