"""What the browser tests and scripts/screenshots.sh share: the service with its data, and
headless Debian chromium driven through Debian's chromedriver.

The service is started exactly as tests/python/ starts it (`serve` of tests/python/conftest.py,
loaded here under its own module name: tests/python's modules import it as `conftest`): the real binary from
SWITCHBOARD_BIN in sandbox mode with the admin token `ADMIN_TOKEN`, a fresh working directory
(so a fresh SQLite file) and a free loopback port. On top of that the in-process Cal.com
simulator gets a known port, so `/__sim/faults` can fail Cal.com at a chosen moment, and the
outbox gives a booking one attempt, so that moment makes a dead letter at once.

The browser is /usr/bin/chromium through /usr/bin/chromedriver (Debian's `chromium` and
`chromium-driver`; SWITCHBOARD_CHROMIUM and SWITCHBOARD_CHROMEDRIVER name others), both named
explicitly so Selenium Manager never looks for a browser or downloads one. Its console is logged at every level (`goog:loggingPrefs`), which is where
Content-Security-Policy violations appear.
"""

import contextlib
import datetime as dt
import importlib.util
import os
import re
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

REPO_ROOT = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location("switchboard_blackbox", REPO_ROOT / "tests/python/conftest.py")
blackbox = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(blackbox)

ADMIN_TOKEN = blackbox.ADMIN_TOKEN
CHROMIUM = Path(os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("SWITCHBOARD_CHROMEDRIVER", "/usr/bin/chromedriver"))
DESKTOP = (1280, 900)
PHONE = (390, 844)
FUNCTION = "/api/mcp/retell/custom-function"
WEBHOOK = "/api/mcp/retell/webhook"
# Longest wait for a booking job to settle, for a page to show a state, seconds.
SETTLE_S = 20
# The in-process Cal.com simulator fails every request with this while a dead letter is made.
OUTAGE = {"error_rate": 1.0, "error_status": 503}


@dataclass(frozen=True)
class Tenant:
    """An example tenant of the sandbox (examples/tenants/) as a caller reaches it."""

    slug: str
    phone: str
    retell_api_key: str
    agent_id: str
    # A service of the tenant's (for the calls the tests make themselves).
    service: str


DEMO = Tenant("demo-salon-berlin", blackbox.DEMO_PHONE, blackbox.DEMO_RETELL_API_KEY, "agent_d62e7fe077eaf026eece63417d", "Damenhaarschnitt")
THAMES = Tenant("thames-physio", "+442079460321", blackbox.THAMES_RETELL_API_KEY, "agent_thames_physio_reception", "Follow-up session")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when chromium and chromedriver are installed."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    return f"not installed: {', '.join(missing)} (apt-get install chromium chromium-driver)" if missing else None


def new_driver(size: tuple[int, int] = DESKTOP) -> webdriver.Chrome:
    """Headless chromium with a `size` (width, height in CSS pixels) window and its console logged."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    return driver


def emulate_screen(driver: webdriver.Chrome, size: tuple[int, int] | None, phone: bool = False) -> None:
    """Makes the viewport exactly `size` (width, height in CSS pixels; a window's size also
    counts the browser's own bars), a phone's when `phone` (touch, the page's meta viewport,
    2 device pixels per CSS pixel); None goes back to the window's viewport."""
    if size is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return
    metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 2 if phone else 1, "mobile": phone}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


@dataclass
class Dashboard:
    """The running service: its JSON-RPC/HTTP helpers (`server`) and the Cal.com simulator's URL."""

    server: blackbox.Server
    calcom_url: str

    @property
    def url(self) -> str:
        return self.server.url

    def page(self, path: str) -> str:
        return f"{self.server.url}{path}"

    def company_id(self, slug: str) -> int:
        companies = self.server.rpc("company.list", {})["companies"]
        return next(c["id"] for c in companies if c["slug"] == slug)

    def company_token(self, slug: str) -> str:
        """A new token of the company `slug` with its highest scope (`admin`)."""
        params = {"company_id": self.company_id(slug), "scope": "admin", "name": f"browser test {slug}"}
        return self.server.rpc("auth.createToken", params)["token"]

    def replay(self, script: str) -> tuple[str, str | None]:
        """Plays examples/calls/`script` with `switchboard replay`; returns the call id and the
        booking uid it printed (None when it booked nothing)."""
        result = subprocess.run(
            [str(self.server.binary), "replay", f"examples/calls/{script}", "--url", self.url, "--token", ADMIN_TOKEN],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        call = re.search(r"call (call_\w+) from", result.stdout)
        booked = re.search(r"booked: uid (\S+),", result.stdout)
        assert call, result.stdout
        return call.group(1), booked.group(1) if booked else None

    def faults(self, config: dict | None) -> None:
        """Sets the Cal.com simulator's faults to `config`, or clears them (None)."""
        url = f"{self.calcom_url}/__sim/faults"
        reply = requests.post(url, json=config, timeout=10) if config else requests.delete(url, timeout=10)
        assert reply.ok, reply.text

    def booking_job(self, call_id: str) -> dict | None:
        return self.server.rpc("webhook.getCall", {"call_id": call_id})["booking_job"]

    def wait_job(self, call_id: str, status: str) -> dict:
        """Polls the call's booking job until its status is `status`; returns it."""
        deadline = time.monotonic() + SETTLE_S
        while True:
            job = self.booking_job(call_id)
            if job and job["status"] == status:
                return job
            assert time.monotonic() < deadline, f"{call_id}: booking job not {status} after {SETTLE_S} s: {job}"
            time.sleep(0.2)

    def dead_letter(self, tenant: Tenant, caller: str, weekday: int) -> tuple[str, int]:
        """A confirmed call to `tenant` from `caller` for 10:00 on the first `weekday` (0 =
        Monday) at least three days ahead, whose booking meets a Cal.com answering 503 to
        everything and, with one attempt allowed, becomes a dead letter. Cal.com is healthy
        again when this returns (call id, job id)."""
        day = dt.date.today() + dt.timedelta(days=3)
        while day.weekday() != weekday:
            day += dt.timedelta(days=1)
        call = {
            "call_id": "call_" + uuid.uuid4().hex[:28],
            "agent_id": tenant.agent_id,
            "agent_version": 1,
            "call_type": "phone_call",
            "call_status": "ongoing",
            "direction": "inbound",
            "from_number": caller,
            "to_number": tenant.phone,
            "start_timestamp": int(time.time() * 1000),
        }
        args = {"service": tenant.service, "date": day.isoformat(), "time": "10:00"}
        args |= {"name": "Mia Schneider", "phone": caller, "confirmed": "yes"}
        said = f"{args['service']} on {args['date']} at 10:00 for Mia Schneider, please. Yes, book it."
        reply = self._signed(tenant, FUNCTION, {"name": "collect_appointment_data", "call": call, "args": args}, 200)
        assert reply.json()["status"] == "booked_pending", reply.text
        now = int(time.time() * 1000)
        ended = dict(
            call,
            call_status="ended",
            end_timestamp=now,
            duration_ms=now - call["start_timestamp"],
            disconnection_reason="user_hangup",
            transcript=f"Agent: Hello.\nUser: {said}\n",
        )
        self.faults(OUTAGE)
        try:
            self._signed(tenant, WEBHOOK, {"event": "call_ended", "call": ended}, 204)
            job = self.wait_job(call["call_id"], "failed")
        finally:
            self.faults(None)
        return call["call_id"], job["id"]

    def _signed(self, tenant: Tenant, path: str, payload: dict, status: int) -> requests.Response:
        reply = self.server.post_signed(path, payload, key=tenant.retell_api_key)
        assert reply.status_code == status, f"{path}: {reply.status_code} {reply.text}"
        return reply


@contextlib.contextmanager
def serve_dashboard(workdir: Path):
    """The service for the dashboard: sandbox mode as tests/python runs it, its Cal.com
    simulator on a known port, one outbox attempt per booking (a failure is a dead letter at
    once, retried from the page) and a Cal.com breaker that the few failures made on purpose
    never open (an open breaker would fail the retry)."""
    calcom_port = blackbox._free_port()
    env = {
        "SWITCHBOARD__SANDBOX__CALCOM_PORT": str(calcom_port),
        "SWITCHBOARD__OUTBOX__MAX_ATTEMPTS": "1",
        "SWITCHBOARD__OUTBOX__POLL_INTERVAL_MS": "100",
        "SWITCHBOARD__RESILIENCE__CALCOM__RETRY_MAX_ATTEMPTS": "1",
        "SWITCHBOARD__RESILIENCE__CALCOM__FAILURE_THRESHOLD": "1000",
    }
    with blackbox.serve(workdir, **env) as server:
        yield Dashboard(server=server, calcom_url=f"http://127.0.0.1:{calcom_port}")


def wait_for(driver: webdriver.Chrome, css: str, timeout_s: float = 10):
    """The first element matching `css` once it is present."""
    return WebDriverWait(driver, timeout_s).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def unstale(action, attempts: int = 3):
    """`action()`, done again when the elements it used were replaced meanwhile: htmx swaps
    the today page's table every few seconds."""
    for attempt in range(attempts):
        try:
            return action()
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise


def sign_in(driver: webdriver.Chrome, dashboard: Dashboard, token: str) -> None:
    """Signs in through the login form with `token` (a fresh session: cookies are dropped first)."""
    driver.get(dashboard.page("/admin/login"))
    driver.delete_all_cookies()
    driver.get(dashboard.page("/admin/login"))
    wait_for(driver, "#login-form #token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#sign-in").click()
    wait_for(driver, "#nav")


def session_cookie(driver: webdriver.Chrome) -> str:
    """The browser's `sb_admin` session cookie, as a Cookie header value."""
    cookie = driver.get_cookie("sb_admin")
    assert cookie, f"no sb_admin cookie: {driver.get_cookies()}"
    return f"sb_admin={cookie['value']}"


def console(driver: webdriver.Chrome) -> list[dict]:
    """The browser console entries since the last call (reading the log empties it)."""
    return driver.get_log("browser")
