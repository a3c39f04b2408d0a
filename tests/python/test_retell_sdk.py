"""Black-box tests of switchboard's Retell endpoints, signed with the real retell-sdk.

One test per guarantee: a signed call books exactly once however often `call_ended` arrives;
signatures made with another key, or too old, are refused; the SDK accepts signatures made
by our algorithm; the recorded example call replays to a booking.
"""

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import DEMO_RETELL_API_KEY, REPO_ROOT, new_call
from retell.lib.webhook_auth import symmetric

FUNCTION = "/api/mcp/retell/custom-function"
WEBHOOK = "/api/mcp/retell/webhook"
BOOKING_WAIT_S = 15


def ended(call: dict) -> dict:
    """`call` as `call_ended` carries it (reference/retell.md §1.4)."""
    now = int(time.time() * 1000)
    return dict(
        call,
        call_status="ended",
        end_timestamp=now,
        duration_ms=now - call["start_timestamp"],
        disconnection_reason="agent_hangup",
        transcript="Agent: Demo Salon Berlin, guten Tag.\nUser: Einen Herrenschnitt am Montag um zwölf, bitte.\n",
    )


def wait_for_booking_job(server, call_id: str) -> dict:
    """Polls `webhook.getCall` until the booking job is done or failed; returns the call view."""
    deadline = time.monotonic() + BOOKING_WAIT_S
    while True:
        view = server.rpc("webhook.getCall", {"call_id": call_id})
        job = view["booking_job"]
        if job and job["status"] in ("done", "failed"):
            return view
        assert time.monotonic() < deadline, f"booking job not settled after {BOOKING_WAIT_S} s: {view}"
        time.sleep(0.25)


def bookings_of(server, call_id: str) -> list:
    """The simulator's Cal.com bookings made for `call_id` (our idempotency metadata)."""
    bookings = server.rpc("calcom.getBookings", {"company_id": 1})["bookings"]
    return [b for b in bookings if b.get("metadata", {}).get("retell_call_id") == call_id]


def collect(server, call: dict, args: dict) -> dict:
    """Sends `args` to `collect_appointment_data` during `call`; checks the 200, returns the reply."""
    reply = server.post_signed(FUNCTION, {"name": "collect_appointment_data", "call": call, "args": args})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_sdk_signed_call_books_once(server):
    call = new_call("+4917311223344")
    first = collect(server, call, {"dienstleistung": "Herrenschnitt", "datum": "Montag", "uhrzeit": "12 Uhr"})
    assert first["status"] == "incomplete"
    second = collect(server, call, {"name": "Jürgen Müller", "telefonnummer": "0173 1122334", "bestaetigt": "ja"})
    assert second["status"] == "booked_pending", second["message"]
    before = server.rpc("webhook.getWebhookStats", {"company_id": 1})

    # Retell retries call_ended when it sees no 2xx in time: four deliveries at once.
    payload = {"event": "call_ended", "call": ended(call)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: server.post_signed(WEBHOOK, payload), range(4)))
    assert [r.status_code for r in replies] == [204] * 4, [r.text for r in replies]

    view = wait_for_booking_job(server, call["call_id"])
    assert view["booking_job"]["status"] == "done", view["booking_job"]
    uid = view["appointment"]["booking_uid"]
    time.sleep(1)  # a second booking, if any, would have had time to land
    bookings = bookings_of(server, call["call_id"])
    assert [b["uid"] for b in bookings] == [uid]
    after = server.rpc("webhook.getWebhookStats", {"company_id": 1})
    assert after["duplicates"] - before["duplicates"] == 3
    assert after["events"]["call_ended"] - before["events"].get("call_ended", 0) == 1
    assert after["appointments"] - before["appointments"] == 1


@pytest.mark.parametrize("path", [WEBHOOK, FUNCTION])
def test_sdk_signature_from_another_key_is_rejected(server, path):
    call = new_call("+4917311223355")
    payload = (
        {"event": "call_started", "call": call}
        if path == WEBHOOK
        else {"name": "calculate_duration", "call": call, "args": {"dienstleistung": "Färben"}}
    )
    reply = server.post_signed(path, payload, key="key_another_tenant_0123456789")
    assert reply.status_code == 401, reply.text
    # The same body signed with the tenant's key passes, so the key alone made the difference.
    assert server.post_signed(path, payload).status_code in (200, 204)


def test_stale_sdk_signature_is_rejected(server):
    call = new_call("+4917311223366")
    six_minutes_ago = int(time.time() * 1000) - 6 * 60 * 1000
    reply = server.post_signed(WEBHOOK, {"event": "call_started", "call": call}, timestamp_ms=six_minutes_ago)
    assert reply.status_code == 401, reply.text


def test_sdk_verify_accepts_our_known_answer():
    # switchboard's signer yields exactly this value for this input (unit test
    # `known_answer_vector_from_retell_sdk` in actors/src/retell/signature.rs).
    body, key, ts = '{"event":"call_ended"}', "test-api-key", 1700000000000
    ours = "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e"
    assert symmetric["verify"](body, key, ours, {"timestamp": ts})
    assert symmetric["verify"](body, key, ours, {"timestamp": ts + 300_000})
    assert not symmetric["verify"](body, key, ours, {"timestamp": ts + 300_001})
    assert not symmetric["verify"](body + " ", key, ours, {"timestamp": ts})
    assert symmetric["sign"](body, key, ts) == ours


def test_replay_example_books(server):
    result = subprocess.run(
        [
            str(server.binary),
            "replay",
            "examples/calls/de_booking.json",
            "--url",
            server.url,
            "--token",
            server.token,
            "--key",
            DEMO_RETELL_API_KEY,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"booked: uid (\S+),", result.stdout)
    assert match, result.stdout
    uids = [b["uid"] for b in server.rpc("calcom.getBookings", {"company_id": 1})["bookings"]]
    assert match.group(1) in uids
