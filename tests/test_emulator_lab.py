"""The emulator's control API, its command line and interactive phones (the phone lab)."""

from __future__ import annotations

import time

import pytest
import requests

from emulator import Phone
from emulator.__main__ import main as cli_main
from tests.emulator_rig import (
    AGENT,
    CALLER,
    CUSTOMER,
    DESK,
    interactive,
    menu,
    twiml,
    wait_for,
    whisper_routes,
)

# -- control API and CLI ----------------------------------------------------


def test_control_api_sets_phones_and_places_calls(emu, web):
    web.routes["/voice"] = twiml(f'<Dial action="/dialed">{AGENT}</Dial>')
    control = f"{emu.base_url}/_emulator"

    assert requests.put(f"{control}/phones/{AGENT}", json={"answer": "no-answer"}, timeout=5).status_code == 200
    assert requests.put(f"{control}/phones/{AGENT}", json={"mood": "grumpy"}, timeout=5).status_code == 400
    placed = requests.post(f"{control}/calls", json={"from": CALLER, "keys": []}, timeout=10).json()

    assert placed["status"] == "completed" and placed["errors"] == []
    assert web.to("/dialed")[0]["DialCallStatus"] == "no-answer"
    listed = requests.get(f"{control}/calls", timeout=5).json()
    assert {call["sid"] for call in listed} == set(emu.calls)
    assert requests.get(f"{control}/messages", timeout=5).json() == []


def test_cli_call_prints_what_the_caller_heard(emu, web, capsys):
    web.routes["/voice"] = menu(numDigits="1")
    web.routes["/choice"] = lambda p: twiml(f"<Say>Option {p['Digits']}.</Say>")

    exit_code = cli_main(["call", "--url", emu.base_url, "--from", CALLER, "2"])

    out = capsys.readouterr().out
    assert exit_code == 0
    assert "heard: Press a key." in out and "heard: Option 2." in out


# -- interactive phones (the phone lab) -------------------------------------


def test_a_handset_caller_presses_keys_while_the_menu_plays(emu, web):
    web.routes["/voice"] = twiml(
        "<Say>Welcome.</Say>",
        '<Gather numDigits="1" action="/choice"><Say>Press a key, any key, any key at all.</Say></Gather>',
    )
    web.routes["/choice"] = lambda p: twiml(f"<Say>Option {p['Digits']}.</Say>")
    caller = interactive(emu, CALLER)

    rec = emu.call_from_handset(CALLER)
    assert wait_for(lambda: caller.state()["status"] == "in-call")
    assert caller.press("9") is False  # nothing listens during the welcome: the key is lost
    wait_for(lambda: caller.state()["listening"] == "keys")
    started = time.monotonic()
    assert caller.press("2") is True  # barge-in: the menu prompt is cut short
    emu.wait_idle()

    assert web.to("/choice")[0]["Digits"] == "2"
    assert rec.heard == ["Welcome.", "Press a key, any key, any key at all.", "Option 2."]
    assert time.monotonic() - started < 3
    assert caller.state()["status"] == "idle" and caller.state()["call"]["status"] == "completed"
    assert web.to("/status")[0]["CallStatus"] == "completed"


def test_a_silent_handset_caller_lets_the_gather_time_out(emu, web):
    web.routes["/voice"] = menu(timeout="1", numDigits="1")
    interactive(emu, CALLER)

    rec = emu.call_from_handset(CALLER)
    emu.wait_idle()

    assert rec.heard == ["Press a key.", "No input."] and web.to("/choice") == []


def test_a_handset_caller_speaks_into_a_recording_and_ends_it_with_the_hash_key(emu, web):
    web.routes["/voice"] = twiml(
        '<Record action="/recorded" finishOnKey="#" timeout="5" transcribeCallback="/transcribed"/>'
    )
    caller = interactive(emu, CALLER)

    emu.call_from_handset(CALLER)
    wait_for(lambda: caller.state()["listening"] == "record")
    assert caller.speak("printer #3 on fire") is True
    assert caller.press("#") is True
    emu.wait_idle()

    assert web.to("/recorded")[0]["Digits"] == "#"
    assert web.to("/transcribed")[0]["TranscriptionText"] == "printer 3 on fire"


def test_hanging_up_a_handset_mid_recording_still_posts_the_recording(emu, web):
    web.routes["/voice"] = twiml('<Record action="/recorded" finishOnKey="#"/>')
    caller = interactive(emu, CALLER)

    rec = emu.call_from_handset(CALLER)
    wait_for(lambda: caller.state()["listening"] == "record")
    assert caller.hang_up() is True
    emu.wait_idle()

    assert web.to("/recorded")[0]["Digits"] == "hangup" and rec.status == "completed"


def test_a_busy_handset_cannot_place_a_second_call(emu, web):
    web.routes["/voice"] = menu(timeout="2")
    interactive(emu, CALLER)
    assert emu.call_from_handset(CALLER) is not None
    assert emu.call_from_handset(CALLER) is None
    emu.handset(CALLER).hang_up()


def test_a_rest_call_rings_the_handset_until_its_person_answers_and_keys_reach_the_whisper(emu, web, rest):
    whisper_routes(web)
    agent = interactive(emu, AGENT)

    call = rest.calls.create(to=AGENT, from_=DESK, url=web.url("/whisper"), status_callback=web.url("/progress"))
    wait_for(lambda: agent.state()["status"] == "ringing")
    assert agent.state()["ringing_from"] == DESK
    time.sleep(0.3)
    assert emu.calls[call.sid].status == "ringing"
    assert agent.answer() is True
    wait_for(lambda: agent.state()["listening"] == "keys")
    agent.press("1")
    emu.wait_idle()

    assert emu.calls[call.sid].heard == ["Customer waiting, press 1.", "Connecting."]
    assert web.to("/progress")[-1]["CallStatus"] == "completed"


@pytest.mark.parametrize(("person", "status"), [("decline", "busy"), ("nothing", "no-answer")])
def test_a_handset_that_is_not_answered_ends_the_rest_call(emu, web, rest, person, status):
    agent = interactive(emu, AGENT)

    call = rest.calls.create(to=AGENT, from_=DESK, url=web.url("/whisper"), timeout=1)
    wait_for(lambda: agent.state()["status"] == "ringing")
    if person == "decline":
        agent.decline()
    emu.wait_idle()

    assert emu.calls[call.sid].status == status and web.to("/whisper") == []
    assert agent.state()["status"] == "idle"


def test_a_dialled_handset_talks_until_its_person_hangs_up(emu, web):
    web.routes["/voice"] = twiml(f'<Dial action="/dialed" callerId="{DESK}"><Number>{CUSTOMER}</Number></Dial>')
    web.routes["/dialed"] = twiml("<Say>Goodbye.</Say>")
    customer = interactive(emu, CUSTOMER)

    emu.spawn(lambda: emu.place_inbound_call(from_=CALLER, keys=[]), "caller")
    wait_for(lambda: customer.state()["status"] == "ringing")
    customer.answer()
    wait_for(lambda: customer.state()["talking_with"] == CALLER)
    time.sleep(1.2)
    customer.hang_up()
    emu.wait_idle()

    dialed = web.to("/dialed")[0]
    assert dialed["DialCallStatus"] == "completed" and int(dialed["DialCallDuration"]) >= 1
    assert customer.state()["talking_with"] is None and customer.state()["status"] == "idle"


def test_control_api_drives_handsets(emu, web):
    web.routes["/voice"] = menu(numDigits="1", timeout="5")
    web.routes["/choice"] = lambda p: twiml(f"<Say>Option {p['Digits']}.</Say>")
    control = f"{emu.base_url}/_emulator"
    assert requests.get(f"{control}/handsets/{CALLER}", timeout=5).status_code == 404
    requests.put(f"{control}/phones/{CALLER}", json={"interactive": True}, timeout=5)

    assert requests.post(f"{control}/handsets/{CALLER}/answer", timeout=5).status_code == 409
    placed = requests.post(f"{control}/handsets/{CALLER}/call", json={}, timeout=5)
    assert placed.status_code == 201
    wait_for(lambda: requests.get(f"{control}/handsets/{CALLER}", timeout=5).json()["listening"] == "keys")
    assert requests.post(f"{control}/handsets/{CALLER}/keys", json={"keys": "x"}, timeout=5).status_code == 400
    pressed = requests.post(f"{control}/handsets/{CALLER}/keys", json={"keys": "3"}, timeout=5)
    assert pressed.json() == {"accepted": True}
    emu.wait_idle()

    listed = requests.get(f"{control}/handsets", timeout=5).json()
    assert listed[CALLER]["call"]["sid"] == placed.json()["sid"]
    assert listed[CALLER]["call"]["heard"] == ["Press a key.", "Option 3."]


def test_phones_a_browser_took_are_given_back_when_it_stops_looking(emu, web):
    """The phone lab's phones go back to answering by themselves once its page is closed."""
    web.routes["/voice"] = twiml(f'<Dial action="/dialed" timeout="1">{AGENT}</Dial>')
    control = f"{emu.base_url}/_emulator"
    emu.handset_lease_seconds = 0.5
    emu.set_phone(CUSTOMER, Phone(interactive=True))  # set from Python (tests): no lease
    assert requests.put(f"{control}/phones/{AGENT}", json={"interactive": True}, timeout=5).status_code == 200
    for _ in range(4):  # the page polls: the lease is renewed
        time.sleep(0.25)
        assert set(requests.get(f"{control}/handsets", timeout=5).json()) == {AGENT, CUSTOMER}
    assert emu.release_idle_handsets() == []

    time.sleep(0.7)  # the page is gone
    placed = requests.post(f"{control}/calls", json={"from": CALLER, "keys": []}, timeout=10).json()

    assert placed["status"] == "completed"
    assert web.to("/dialed")[0]["DialCallStatus"] == "completed"  # answered by the automatic phone
    assert set(emu.handsets) == {CUSTOMER}
