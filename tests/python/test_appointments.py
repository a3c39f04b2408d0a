"""Acceptance of issue 12, black-box, every Retell request signed by the real retell-sdk.

A caller books; a second call from the same number finds the appointment and moves it; a
third cancels it. After each step Cal.com (the simulator, read through the gateway) shows the
change, and the slot that was given up is offered again at once, also by the cached gateway
answer. A change inside the notice window is refused in words, and another caller's number
can neither find nor cancel the appointment.
"""

import datetime as dt
import time

import pytest
import requests
from conftest import new_call, serve
from test_retell_sdk import FUNCTION, WEBHOOK, ended, wait_for_booking_job

CALLER = "+4917612345601"
STRANGER = "+4917698765432"
SERVICE = "Herrenhaarschnitt"
POLICY_TTL_S = 1


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The service in sandbox mode, re-reading tenant settings every second (a policy change
    made through the gateway applies within POLICY_TTL_S)."""
    with serve(tmp_path_factory.mktemp("switchboard-appointments"), SWITCHBOARD__CACHE__LOOKUPS_TTL_S=str(POLICY_TTL_S)) as running:
        yield running


def weekday_ahead(days: int, weekday: int) -> dt.date:
    """The first `weekday` (0 = Monday) at least `days` days after today (Berlin)."""
    day = dt.date.today() + dt.timedelta(days=days)
    while day.weekday() != weekday:
        day += dt.timedelta(days=1)
    return day


def function(server, call: dict, name: str, args: dict) -> dict:
    reply = server.post_signed(FUNCTION, {"name": name, "call": call, "args": args})
    assert reply.status_code == 200, reply.text
    return reply.json()


def book(server, day: dt.date, time_of_day: str) -> str:
    """Books `time_of_day` on `day` by phone from CALLER; returns the booking uid."""
    call = new_call(CALLER)
    reply = function(
        server,
        call,
        "collect_appointment_data",
        {
            "dienstleistung": SERVICE,
            "datum": day.isoformat(),
            "uhrzeit": time_of_day,
            "name": "Jonas Becker",
            "telefonnummer": CALLER,
            "bestaetigt": "ja",
        },
    )
    assert reply["status"] == "booked_pending", reply
    assert server.post_signed(WEBHOOK, {"event": "call_ended", "call": ended(call)}).status_code == 204
    view = wait_for_booking_job(server, call["call_id"])
    assert view["booking_job"]["status"] == "done", view
    return view["appointment"]["booking_uid"]


def calcom_booking(server, uid: str) -> dict:
    bookings = server.rpc("calcom.getBookings", {"company_id": 1, "take": 250})["bookings"]
    found = [b for b in bookings if b["uid"] == uid]
    assert found, f"{uid} not in Cal.com"
    return found[0]


def free_starts(server, day: dt.date) -> set:
    """Local HH:MM of the free slots of SERVICE on `day`, as the cached gateway answer lists them."""
    slots = server.rpc("calcom.checkAvailability", {"company_id": 1, "service": SERVICE, "date": day.isoformat()})["slots"]
    return {dt.datetime.fromisoformat(s["start"]).strftime("%H:%M") for s in slots}


def test_book_find_move_cancel_by_phone(server):
    day = weekday_ahead(7, 2)
    uid = book(server, day, "10:00")
    assert calcom_booking(server, uid)["status"] == "accepted"
    assert "10:00" not in free_starts(server, day)  # cached now: the move must drop it

    # A second call from the same number finds it, changeable.
    call = new_call(CALLER)
    found = function(server, call, "find_appointments", {})
    assert found["status"] == "found", found
    assert [(a["date"], a["time"], a["can_modify"]) for a in found["appointments"]] == [(day.isoformat(), "10:00", True)]
    assert "10 Uhr" in found["message"], found["message"]

    # ... and moves it, confirmed: "moved" only after Cal.com did it.
    asked = function(server, call, "change_appointment", {"datum": day.isoformat(), "uhrzeit": "14:00"})
    assert asked["status"] == "confirm", asked
    moved = function(server, call, "change_appointment", {"datum": day.isoformat(), "uhrzeit": "14:00", "bestaetigt": "ja"})
    assert moved["status"] == "moved", moved
    assert calcom_booking(server, uid)["status"] == "cancelled"
    new = server.rpc("appointments.find", {"company_id": 1, "phone": CALLER})["appointments"]
    assert len(new) == 1, new
    new_uid = new[0]["booking_uid"]
    assert new_uid != uid
    assert calcom_booking(server, new_uid)["status"] == "accepted"
    # The freed slot is offered at once, though its day was cached with it taken.
    free = free_starts(server, day)
    assert "10:00" in free and "14:00" not in free, sorted(free)

    # A third call cancels it.
    call = new_call(CALLER)
    asked = function(server, call, "cancel_appointment", {"grund": "Termin passt nicht mehr"})
    assert asked["status"] == "confirm", asked
    cancelled = function(server, call, "cancel_appointment", {"grund": "Termin passt nicht mehr", "bestaetigt": "ja"})
    assert cancelled["status"] == "cancelled", cancelled
    assert calcom_booking(server, new_uid)["status"] == "cancelled"
    assert "14:00" in free_starts(server, day)
    assert function(server, new_call(CALLER), "find_appointments", {})["status"] == "none_found"
    metrics = requests.get(f"{server.url}/api/metrics", headers={"Authorization": f"Bearer {server.token}"}, timeout=10).text
    assert 'appointment_changes_total{action="reschedule",status="done"} 1' in metrics, metrics
    assert 'appointment_changes_total{action="cancel",status="done"} 1' in metrics, metrics


def test_another_callers_number_cannot_find_or_cancel(server):
    day = weekday_ahead(8, 3)
    uid = book(server, day, "11:00")
    stranger = new_call(STRANGER)
    found = function(server, stranger, "find_appointments", {})
    assert found["status"] == "none_found", found
    assert "11" not in found["message"] and "Jonas" not in found["message"]
    refused = function(server, stranger, "cancel_appointment", {"termin": day.isoformat(), "bestaetigt": "ja"})
    assert refused["status"] == "none_found", refused
    # The same words as for a caller who has no appointment at all.
    nobody = function(server, new_call("+4917600000001"), "cancel_appointment", {"termin": day.isoformat(), "bestaetigt": "ja"})
    assert refused["message"] == nobody["message"]
    # A withheld number naming the caller's number without the date learns nothing either.
    withheld = dict(new_call(CALLER), from_number=None)
    asked = function(server, withheld, "find_appointments", {"telefonnummer": CALLER})
    assert asked["status"] == "need_identity", asked
    assert calcom_booking(server, uid)["status"] == "accepted"


def test_change_inside_the_notice_window_is_refused_in_words(server):
    day = weekday_ahead(9, 4)
    uid = book(server, day, "12:00")
    year = 8760
    server.rpc("company.update", {"company_id": 1, "policy": {"change_notice_h": year}})
    try:
        time.sleep(POLICY_TTL_S + 1)
        call = new_call(CALLER)
        # The caller has another appointment from the test before: say which one.
        which = {"termin": day.isoformat()}
        refused = function(server, call, "change_appointment", dict(which, datum=day.isoformat(), uhrzeit="15:00", bestaetigt="ja"))
        assert refused["status"] == "notice", refused
        assert str(year) in refused["message"], refused["message"]
        refused = function(server, call, "cancel_appointment", dict(which, bestaetigt="ja"))
        assert refused["status"] == "notice", refused
    finally:
        server.rpc("company.update", {"company_id": 1, "policy": {"change_notice_h": 24}})
    # Nothing moved: Cal.com and the local record still have the booking at 12:00.
    booking = calcom_booking(server, uid)
    assert booking["status"] == "accepted"
    local = [a for a in server.rpc("appointments.find", {"company_id": 1, "phone": CALLER})["appointments"] if a["booking_uid"] == uid]
    assert len(local) == 1, local
    assert dt.datetime.fromisoformat(local[0]["start"]) == dt.datetime.fromisoformat(booking["start"])
