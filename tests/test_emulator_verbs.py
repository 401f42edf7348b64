"""TwiML as the emulator walks it: <Gather>, <Record> and <Dial>."""

from __future__ import annotations

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from emulator import APP_ERROR_MESSAGE, Phone
from tests.emulator_rig import (
    ACCOUNT_SID,
    AGENT,
    CALLER,
    CUSTOMER,
    DESK,
    child_of,
    dial_agent,
    menu,
    twiml,
    whisper_routes,
)

# -- Gather -----------------------------------------------------------------


def test_gather_stops_at_num_digits(emu, web):
    web.routes["/voice"] = menu(numDigits="1")

    emu.place_inbound_call(from_=CALLER, keys=["21"])

    assert web.to("/choice")[0]["Digits"] == "2"


def test_gather_stops_at_finish_on_key(emu, web):
    web.routes["/voice"] = menu()

    rec = emu.place_inbound_call(from_=CALLER, keys=["0042#"])

    choice = web.to("/choice")[0]
    assert (choice["Digits"], choice["FinishedOnKey"]) == ("0042", "#")
    assert rec.events == [("gather", "digits=0042")]


def test_gather_submits_typed_keys_when_the_timeout_ends_it(emu, web):
    web.routes["/voice"] = menu(timeout="3")

    emu.place_inbound_call(from_=CALLER, keys=["123"])

    choice = web.to("/choice")[0]
    assert (choice["Digits"], choice["FinishedOnKey"]) == ("123", "")


@pytest.mark.parametrize("item", ["", "#"], ids=["silence", "finish-key-only"])
def test_gather_without_digits_falls_through_to_the_next_verb(emu, web, item):
    web.routes["/voice"] = menu()

    rec = emu.place_inbound_call(from_=CALLER, keys=[item])

    assert web.to("/choice") == []
    assert rec.heard == ["Press a key.", "No input."]


def test_gather_action_on_empty_result_posts_empty_digits(emu, web):
    web.routes["/voice"] = menu(actionOnEmptyResult="true")
    web.routes["/choice"] = twiml("<Say>Nothing pressed.</Say>")

    rec = emu.place_inbound_call(from_=CALLER, keys=[""])

    assert web.to("/choice")[0]["Digits"] == ""
    assert rec.heard == ["Press a key.", "Nothing pressed."]


def test_gather_action_defaults_to_the_current_document(emu, web):
    def voice(params: dict[str, str]) -> str:
        if "Digits" in params:
            return twiml(f"<Say>You chose {params['Digits']}.</Say>")
        return twiml('<Gather numDigits="1"><Say>Choose.</Say></Gather>')

    web.routes["/voice"] = voice

    rec = emu.place_inbound_call(from_=CALLER, keys=["3"])

    assert [params.get("Digits") for params in web.to("/voice")] == [None, "3"]
    assert rec.heard == ["Choose.", "You chose 3."]


def test_caller_hangs_up_at_the_next_gather_when_keys_run_out(emu, web):
    web.routes["/voice"] = menu()

    rec = emu.place_inbound_call(from_=CALLER, keys=[], hangup_when_done=True)

    assert web.to("/choice") == []
    assert rec.heard == ["Press a key."]
    assert rec.events == [("caller-hangup", "")]
    assert rec.status == "completed"


def test_a_silent_caller_in_an_endless_menu_hits_the_loop_limit(emu, web):
    web.routes["/voice"] = twiml('<Gather numDigits="1"/>', "<Redirect>/voice</Redirect>")

    rec = emu.place_inbound_call(from_=CALLER)

    assert len(web.to("/voice")) == 200
    assert rec.errors == ["loop limit"]
    assert APP_ERROR_MESSAGE not in rec.heard


# -- Record -----------------------------------------------------------------


RECORD = (
    '<Record action="/recorded" maxLength="60" recordingStatusCallback="/recording-status"'
    ' transcribeCallback="/transcribed"/>'
)


def test_record_posts_the_action_then_recording_and_transcription_callbacks(emu, web):
    web.routes["/voice"] = twiml("<Say>Describe the problem.</Say>", RECORD)
    web.routes["/recorded"] = twiml("<Say>Thanks.</Say>")

    rec = emu.place_inbound_call(from_=CALLER, keys=["printer broken#"])
    assert emu.wait_idle(timeout=5)

    assert rec.heard == ["Describe the problem.", "[beep]", "Thanks."]
    recorded = web.to("/recorded")[0]
    assert recorded["Digits"] == "#"
    assert recorded["RecordingSid"].startswith("RE")
    assert (
        recorded["RecordingUrl"]
        == f"{emu.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recorded['RecordingSid']}"
    )
    status = web.to("/recording-status")[0]
    assert status["RecordingStatus"] == "completed" and status["RecordingSource"] == "RecordVerb"
    assert (
        status["RecordingSid"] == recorded["RecordingSid"]
        and status["RecordingDuration"] == recorded["RecordingDuration"]
    )
    transcription = web.to("/transcribed")[0]
    assert transcription["TranscriptionText"] == "printer broken"
    assert transcription["TranscriptionStatus"] == "completed"
    assert transcription["RecordingSid"] == recorded["RecordingSid"]
    paths = web.paths()
    assert paths.index("/recorded") < paths.index("/recording-status") < paths.index("/transcribed")
    audio = requests.get(recorded["RecordingUrl"], timeout=5)
    assert audio.status_code == 200 and audio.content.startswith(b"RIFF")


def test_a_recording_is_deleted_through_the_rest_api_by_its_account_only(emu, rest):
    recording = emu.new_recording(3)
    json_url = f"{emu.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording.sid}.json"
    assert requests.delete(json_url, timeout=5).status_code == 401  # media is public, deleting is not
    assert requests.get(recording.url, timeout=5).status_code == 200
    assert rest.recordings(recording.sid).delete() is True
    assert requests.get(recording.url, timeout=5).status_code == 404
    with pytest.raises(TwilioRestException) as again:
        rest.recordings(recording.sid).delete()
    assert again.value.status == 404 and again.value.code == 20404


def test_an_empty_recording_skips_the_action_and_continues(emu, web):
    web.routes["/voice"] = twiml(RECORD, "<Say>We heard nothing.</Say>")

    rec = emu.place_inbound_call(from_=CALLER, keys=[""])
    emu.wait_idle(timeout=5)

    assert web.to("/recorded") == [] and web.to("/recording-status") == []
    assert rec.heard == ["[beep]", "We heard nothing."]


def test_hanging_up_during_a_recording_posts_digits_hangup(emu, web):
    web.routes["/voice"] = twiml(RECORD, "<Say>Unreachable.</Say>")

    rec = emu.place_inbound_call(from_=CALLER, keys=[], hangup_when_done=True)
    emu.wait_idle(timeout=5)

    recorded = web.to("/recorded")[0]
    assert (recorded["Digits"], recorded["CallStatus"]) == ("hangup", "completed")
    assert web.to("/recording-status")[0]["RecordingStatus"] == "completed"
    assert "Unreachable." not in rec.heard


# -- Dial -------------------------------------------------------------------


def test_dial_bridges_when_the_whisper_runs_out_of_verbs(emu, web):
    web.routes["/voice"] = dial_agent()
    whisper_routes(web)
    emu.set_phone(AGENT, Phone(keys=["1"], talk_seconds=42))

    rec = emu.place_inbound_call(from_=CALLER)

    (leg,) = child_of(emu, rec)
    assert (leg.direction, leg.from_, leg.to, leg.status) == ("outbound-dial", DESK, AGENT, "completed")
    assert leg.heard == ["Customer waiting, press 1.", "Connecting."]
    assert web.to("/whisper")[0]["ParentCallSid"] == rec.sid
    dialed = web.to("/dialed")[0]
    assert dialed["DialCallStatus"] == "completed" and dialed["DialBridged"] == "true"
    assert dialed["DialCallSid"] == leg.sid
    assert int(dialed["DialCallDuration"]) == leg.duration >= 42
    legs = web.to("/leg-status")
    assert [p["CallStatus"] for p in legs] == ["initiated", "ringing", "in-progress", "completed"]
    assert [p["SequenceNumber"] for p in legs] == ["0", "1", "2", "3"]
    assert legs[-1]["CallDuration"] == str(leg.duration)
    assert ("bridged", AGENT) in rec.events and rec.heard == ["Goodbye."]


def test_dial_whisper_that_hangs_up_reports_completed_but_not_bridged(emu, web):
    web.routes["/voice"] = dial_agent()
    whisper_routes(web)
    emu.set_phone(AGENT, Phone(keys=["9"]))

    rec = emu.place_inbound_call(from_=CALLER)

    (leg,) = child_of(emu, rec)
    dialed = web.to("/dialed")[0]
    assert (dialed["DialCallStatus"], dialed["DialBridged"]) == ("completed", "false")
    assert leg.events[-1] == ("hangup", "")
    assert ("bridged", AGENT) not in rec.events


@pytest.mark.parametrize("answer", ["no-answer", "busy", "failed"])
def test_dial_reports_a_callee_that_does_not_answer(emu, web, answer):
    web.routes["/voice"] = dial_agent(timeout="20")
    whisper_routes(web)
    emu.set_phone(AGENT, Phone(answer=answer))

    rec = emu.place_inbound_call(from_=CALLER)

    (leg,) = child_of(emu, rec)
    dialed = web.to("/dialed")[0]
    assert dialed["DialCallStatus"] == answer and dialed["DialBridged"] == "false"
    assert "DialCallDuration" not in dialed
    assert leg.status == answer and web.to("/whisper") == []
    assert web.to("/leg-status")[-1]["CallStatus"] == answer


def test_dial_rings_every_number_and_the_first_to_answer_wins(emu, web):
    web.routes["/voice"] = twiml(f"<Dial><Number>{AGENT}</Number><Number>{CUSTOMER}</Number></Dial><Say>After.</Say>")
    emu.set_phone(AGENT, Phone(answer="no-answer"))
    emu.set_phone(CUSTOMER, Phone(talk_seconds=7))

    rec = emu.place_inbound_call(from_=CALLER)

    statuses = {leg.to: leg.status for leg in child_of(emu, rec)}
    assert statuses == {AGENT: "canceled", CUSTOMER: "completed"}
    assert rec.heard == ["After."]  # no action: the next verb runs
    assert ("dial-status", "completed") in rec.events
