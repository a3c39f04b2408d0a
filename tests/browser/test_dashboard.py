"""Acceptance of the operators' dashboard (issue 15) in a real browser: headless Debian
chromium, signed in through the login form, checked against the dashboard's URL and markup
contract (ids, classes and `data-*` attributes, never texts except where the language is the
point).

One service for the module (harness.serve_dashboard) and one scene made once: the recorded
German booking and the Thames Physio booking replayed with `switchboard replay`, and a dead
letter of Thames Physio. A test that changes data (the retry) makes its own.
"""

import os
from dataclasses import dataclass

import harness
import pytest
import requests
from harness import (
    ADMIN_TOKEN,
    DEMO,
    PHONE,
    SETTLE_S,
    THAMES,
    Dashboard,
    console,
    emulate_screen,
    session_cookie,
    sign_in,
    unstale,
    wait_for,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PAGES = ["/admin/", "/admin/appointments", "/admin/dead-letters", "/admin/health", "/admin/tenants", "/admin/stats"]


@pytest.fixture(scope="module")
def browser_installed() -> None:
    """Skips without chromium or chromedriver, unless CI=true: then the tests fail, so CI
    never passes without having run them."""
    reason = harness.missing_browser()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, browser_installed) -> Dashboard:
    """The service, started once for the module (per test would triple the suite's time; each
    test reads only data it made or the module's scene)."""
    with harness.serve_dashboard(tmp_path_factory.mktemp("switchboard-dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def driver(browser_installed):
    """One desktop-sized headless chromium for the module; each test signs in afresh."""
    driver = harness.new_driver()
    try:
        yield driver
    finally:
        driver.quit()


@dataclass(frozen=True)
class Scene:
    demo_call: str
    demo_uid: str
    thames_call: str
    thames_dead_call: str
    thames_dead_job: int


@pytest.fixture(scope="module")
def scene(dashboard: Dashboard) -> Scene:
    demo_call, demo_uid = dashboard.replay("de_booking.json")
    thames_call, thames_uid = dashboard.replay("en_thames_booking.json")
    assert demo_uid and thames_uid
    dead_call, dead_job = dashboard.dead_letter(THAMES, "+447911123457", weekday=3)
    return Scene(demo_call, demo_uid, thames_call, dead_call, dead_job)


def get(dashboard: Dashboard, path: str, cookie: str) -> requests.Response:
    """GETs `path` with the session `cookie`, not following redirects."""
    return requests.get(dashboard.page(path), headers={"Cookie": cookie}, allow_redirects=False, timeout=10)


def state_of(element) -> str:
    """The `data-state` of `element` or of the one element inside it that carries one."""
    return element.get_attribute("data-state") or element.find_element(By.CSS_SELECTOR, "[data-state]").get_attribute("data-state")


def present(driver, css: str) -> bool:
    return bool(driver.find_elements(By.CSS_SELECTOR, css))


def html_lang(driver) -> str:
    return driver.find_element(By.TAG_NAME, "html").get_attribute("lang")


def test_admin_sees_the_replayed_call_booked_and_opens_transcript_collected_data_and_calcom_link(dashboard, driver, scene):
    sign_in(driver, dashboard, ADMIN_TOKEN)
    assert driver.current_url == dashboard.page("/admin/")
    assert driver.find_element(By.CSS_SELECTOR, "#whoami").text.strip()
    assert present(driver, f'#calls tr[data-call-id="{scene.thames_call}"]'), "the operators' token sees every company's calls"

    def open_row():
        row = wait_for(driver, f'#calls tr[data-call-id="{scene.demo_call}"]')
        assert state_of(row.find_element(By.CSS_SELECTOR, ".booking-state")) == "booked"
        assert row.find_element(By.CSS_SELECTOR, ".call-status").text.strip()
        assert row.find_element(By.CSS_SELECTOR, ".company").text.strip()
        row.find_element(By.CSS_SELECTOR, f'a[href="/admin/calls/{scene.demo_call}"]').click()

    unstale(open_row)
    assert "Jonas Becker" in wait_for(driver, "#transcript").text
    assert "Jonas Becker" in driver.find_element(By.CSS_SELECTOR, "#collected").text
    assert state_of(driver.find_element(By.CSS_SELECTOR, "#booking")) == "booked"
    assert scene.demo_uid in driver.find_element(By.CSS_SELECTOR, "a#calcom-link").get_attribute("href")


def test_retry_of_a_dead_letter_from_its_page_books_the_call(dashboard, driver):
    call_id, job_id = dashboard.dead_letter(DEMO, "+4915799912345", weekday=2)
    sign_in(driver, dashboard, ADMIN_TOKEN)
    driver.get(dashboard.page(f"/admin/calls/{call_id}"))
    assert state_of(wait_for(driver, "#booking")) == "failed"

    driver.get(dashboard.page("/admin/dead-letters"))
    unstale(lambda: wait_for(driver, f'#dead-letters tr[data-job-id="{job_id}"] .retry').click())
    wait_for(driver, ".notice")
    assert driver.current_url.startswith(dashboard.page("/admin/dead-letters"))
    assert not present(driver, f'tr[data-job-id="{job_id}"]'), "a retried job is no dead letter any more"

    dashboard.wait_job(call_id, "done")
    driver.get(dashboard.page("/admin/"))
    assert unstale(lambda: state_of(wait_for(driver, f'#calls tr[data-call-id="{call_id}"] .booking-state'))) == "booked"
    driver.get(dashboard.page(f"/admin/calls/{call_id}"))
    assert state_of(wait_for(driver, "#booking")) == "booked"
    assert present(driver, "a#calcom-link")


def test_wrong_token_shows_the_login_form_again_with_an_error_and_no_session(dashboard, driver):
    driver.get(dashboard.page("/admin/login"))
    driver.delete_all_cookies()
    driver.get(dashboard.page("/admin/login"))
    wait_for(driver, "#token").send_keys("not-a-token")
    driver.find_element(By.CSS_SELECTOR, "#sign-in").click()
    wait_for(driver, ".error")
    assert present(driver, "#login-form #token")
    assert driver.get_cookie("sb_admin") is None
    driver.get(dashboard.page("/admin/"))
    wait_for(driver, "#login-form")


def test_session_cookie_is_http_only_secure_same_site_strict_and_only_for_admin(dashboard, driver):
    sign_in(driver, dashboard, ADMIN_TOKEN)
    cookie = driver.get_cookie("sb_admin")
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (True, True, "Strict", "/admin"), cookie
    assert "sb_admin" not in driver.execute_script("return document.cookie"), "page scripts can read the session"


def test_signed_out_session_no_longer_opens_any_page(dashboard, driver):
    sign_in(driver, dashboard, ADMIN_TOKEN)
    old = session_cookie(driver)
    assert get(dashboard, "/admin/", old).status_code == 200

    driver.find_element(By.CSS_SELECTOR, "#sign-out-form #sign-out").click()
    wait_for(driver, "#login-form")
    for path in PAGES:
        reply = get(dashboard, path, old)
        assert reply.status_code == 303, f"{path}: {reply.status_code}"
        assert reply.headers["Location"].endswith("/admin/login"), f"{path}: {reply.headers['Location']}"
    driver.get(dashboard.page("/admin/"))
    wait_for(driver, "#login-form")


def test_company_token_never_sees_another_companys_call_dead_letter_or_tenant(dashboard, driver, scene):
    assert dashboard.booking_job(scene.thames_dead_call)["status"] == "failed"
    sign_in(driver, dashboard, dashboard.company_token(DEMO.slug))
    cookie = session_cookie(driver)

    wait_for(driver, f'#calls tr[data-call-id="{scene.demo_call}"]')
    for call in (scene.thames_call, scene.thames_dead_call):
        assert not present(driver, f'tr[data-call-id="{call}"]'), f"{call} of Thames Physio listed"
        assert get(dashboard, f"/admin/calls/{call}", cookie).status_code == 404
    # A company token choosing another company gets that company's calls no more than a 404
    # page does (driver.get returns once the page has loaded).
    driver.get(dashboard.page(f"/admin/?company={THAMES.slug}"))
    assert not present(driver, f'tr[data-call-id="{scene.thames_call}"]'), "?company= shows a company token another company"
    driver.get(dashboard.page(f"/admin/calls/{scene.thames_call}"))
    wait_for(driver, "#main")
    assert not present(driver, "#transcript")

    driver.get(dashboard.page("/admin/dead-letters"))
    wait_for(driver, "#dead-letters")
    assert not present(driver, f'tr[data-job-id="{scene.thames_dead_job}"]')
    csrf = driver.find_element(By.CSS_SELECTOR, '#sign-out-form input[name="csrf"]').get_attribute("value")
    retry = requests.post(
        dashboard.page(f"/admin/dead-letters/{scene.thames_dead_job}/retry"),
        data={"csrf": csrf},
        headers={"Cookie": cookie, "Origin": dashboard.url},
        allow_redirects=False,
        timeout=10,
    )
    assert retry.status_code == 404, f"retry of another company's dead letter: {retry.status_code}"
    assert dashboard.booking_job(scene.thames_dead_call)["status"] == "failed"

    driver.get(dashboard.page("/admin/tenants"))
    wait_for(driver, f'#tenants tr[data-slug="{DEMO.slug}"]')
    assert not present(driver, f'tr[data-slug="{THAMES.slug}"]')
    assert get(dashboard, f"/admin/tenants/{THAMES.slug}", cookie).status_code == 404


def test_language_switch_changes_the_texts_and_no_page_logs_an_error_or_csp_violation(dashboard, driver, scene):
    console(driver)
    sign_in(driver, dashboard, ADMIN_TOKEN)
    cookie = session_cookie(driver)
    seen = {}
    for lang in ("de", "en"):
        driver.find_element(By.CSS_SELECTOR, f"a#lang-{lang}").click()
        WebDriverWait(driver, SETTLE_S).until(lambda d, lang=lang: html_lang(d) == lang)
        state = unstale(lambda: wait_for(driver, f'#calls tr[data-call-id="{scene.demo_call}"] .booking-state').text)
        seen[lang] = (driver.find_element(By.CSS_SELECTOR, "#nav").text, state)
        driver.get(dashboard.page("/admin/stats"))
        wait_for(driver, "svg#calls-chart, #calls-chart svg")
        assert html_lang(driver) == lang, "the language is remembered without ?lang"
        driver.get(dashboard.page("/admin/"))
    assert seen["de"][0] != seen["en"][0], f"nav the same in both languages: {seen['de'][0]!r}"
    assert seen["de"][1] != seen["en"][1], f"state word the same in both languages: {seen['de'][1]!r}"

    for path in [*PAGES, f"/admin/calls/{scene.demo_call}", f"/admin/tenants/{DEMO.slug}"]:
        driver.get(dashboard.page(path))
        wait_for(driver, "#nav")
        policy = get(dashboard, path, cookie).headers.get("Content-Security-Policy", "")
        assert policy and "unsafe-inline" not in policy, f"{path}: Content-Security-Policy {policy!r}"
    # The browser's own request for /favicon.ico (outside /admin, 404) is not the pages' doing.
    entries = [e for e in console(driver) if not e["message"].startswith(dashboard.page("/favicon.ico"))]
    assert not [e for e in entries if "Content Security Policy" in e["message"]], entries
    assert not [e for e in entries if e["level"] == "SEVERE"], entries


# Form controls without a label and buttons or links without a name, as outerHTML.
UNNAMED_CONTROLS = """
const unnamed = [];
for (const e of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  if (!(e.getAttribute('aria-label') || e.closest('label') || (e.id && document.querySelector(`label[for="${e.id}"]`)))) {
    unnamed.push(e.outerHTML);
  }
}
for (const e of document.querySelectorAll('button, a[href]')) {
  if (!(e.textContent.trim() || e.getAttribute('aria-label'))) unnamed.push(e.outerHTML);
}
return unnamed;
"""


def test_every_form_control_has_a_label_and_every_button_and_link_a_name(dashboard, driver, scene):
    driver.get(dashboard.page("/admin/login"))
    driver.delete_all_cookies()
    for path in ["/admin/login", *PAGES, f"/admin/calls/{scene.demo_call}", f"/admin/tenants/{DEMO.slug}"]:
        if path != "/admin/login" and not driver.get_cookie("sb_admin"):
            sign_in(driver, dashboard, ADMIN_TOKEN)
        driver.get(dashboard.page(path))
        wait_for(driver, "#main")
        assert driver.execute_script(UNNAMED_CONTROLS) == [], path


def test_today_page_fits_a_phone_screen(dashboard, driver, scene):
    sign_in(driver, dashboard, ADMIN_TOKEN)
    emulate_screen(driver, PHONE, phone=True)
    try:
        driver.get(dashboard.page("/admin/"))
        wait_for(driver, f'#calls tr[data-call-id="{scene.demo_call}"]')
        # Against the screen, not window.innerWidth: a phone browser widens its layout viewport
        # to whatever the page overflows to (and zooms out), so innerWidth grows with the page.
        viewport = PHONE[0]
        page_width = driver.execute_script("return document.documentElement.scrollWidth")
        assert page_width <= viewport, f"the page is {page_width} px wide on a {viewport} px screen"
        # The table fits, or scrolls inside a box that fits (the page itself never scrolls sideways).
        right = driver.execute_script(
            """let box = document.getElementById('calls');
               for (let e = box; e && e !== document.body; e = e.parentElement) {
                 if (['auto', 'scroll'].includes(getComputedStyle(e).overflowX)) { box = e; break; }
               }
               return box.getBoundingClientRect().right;"""
        )
        assert right <= viewport + 0.5, f"the calls table ends at {right} px on a {viewport} px screen"

        def tap_call():
            link = driver.find_element(By.CSS_SELECTOR, f'#calls a[href="/admin/calls/{scene.demo_call}"]')
            driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", link)
            link.click()

        unstale(tap_call)
        wait_for(driver, "#transcript")
    finally:
        emulate_screen(driver, None)
