"""Black-box tests of `switchboard sim sms` through Twilio's own Python library.

The simulator must be a faithful enough copy of the Messages API that the real `twilio`
client (twilio.rest.Client) sends, lists and fetches through it and parses every field, and
sees Twilio's errors as TwilioRestException with Twilio's codes. The client's HTTP layer is
pointed at the simulator by rewriting `https://api.twilio.com` in each request URL.
"""

import subprocess
import time
from datetime import datetime

import pytest
import requests
from conftest import _binary, _free_port
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "pytest_sms_token"
SENDER = "+4915735998877"
TWILIO = "https://api.twilio.com"


class SimHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending what it would send to api.twilio.com to the simulator."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        assert url.startswith(TWILIO), url
        return super().request(method, self.base_url + url[len(TWILIO) :], *args, **kwargs)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """`switchboard sim sms` with one account, for this module."""
    port = _free_port()
    log = tmp_path_factory.mktemp("sms") / "sim.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(_binary()), "sim", "sms", "--port", str(port), "--account", f"{ACCOUNT_SID}:{AUTH_TOKEN}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if requests.get(f"{url}/__sim/faults", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def client(sim: str, token: str = AUTH_TOKEN) -> Client:
    return Client(ACCOUNT_SID, token, http_client=SimHttpClient(sim))


def test_sent_message_parses_in_the_twilio_client(sim):
    message = client(sim).messages.create(to="+491711234567", from_=SENDER, body="Ihr Termin ist gebucht. Bis bald!")
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.account_sid == ACCOUNT_SID
    assert message.to == "+491711234567"
    assert message.from_ == SENDER
    assert message.body == "Ihr Termin ist gebucht. Bis bald!"
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.num_segments == "1"
    assert message.error_code is None and message.price is None
    assert isinstance(message.date_created, datetime)
    assert message.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message.sid}.json"


def test_sent_messages_are_listed_and_fetched_like_twilio(sim):
    c = client(sim)
    sent = [c.messages.create(to="+447911123456", from_=SENDER, body=f"message {i}") for i in range(3)]
    listed = c.messages.list(limit=3)
    assert [m.sid for m in listed] == [m.sid for m in reversed(sent)], "newest first"
    paged = c.messages.list(page_size=2)
    assert {m.sid for m in sent} <= {m.sid for m in paged}, "the client follows next_page_uri"
    fetched = c.messages(sent[0].sid).fetch()
    assert fetched.body == "message 0" and fetched.to == "+447911123456"


def test_bad_auth_token_is_twilios_authentication_error(sim):
    with pytest.raises(TwilioRestException) as refused:
        client(sim, token="wrong").messages.create(to="+491711234567", from_=SENDER, body="x")
    assert refused.value.status == 401
    assert refused.value.code == 20003


def test_invalid_to_and_overlong_body_are_twilios_validation_errors(sim):
    c = client(sim)
    with pytest.raises(TwilioRestException) as bad_to:
        c.messages.create(to="+4912", from_=SENDER, body="x")
    assert (bad_to.value.status, bad_to.value.code) == (400, 21211)
    assert "is not a valid phone number" in bad_to.value.msg
    with pytest.raises(TwilioRestException) as too_long:
        c.messages.create(to="+491711234567", from_=SENDER, body="a" * 1601)
    assert (too_long.value.status, too_long.value.code) == (400, 21617)
