"""Thousands of random webhooks, signed and unsigned, at every IVR URL: never a 5xx,
always valid TwiML (or 403), and never a second open callback for one number."""

import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import OPEN_CALLBACK_STATUSES, Callback

PATHS = [
    "/voice/incoming",
    "/voice/language",
    "/voice/main-menu",
    "/voice/open-callback",
    "/voice/closed-menu",
    "/voice/ticket-number",
    "/voice/ticket-menu",
    "/voice/recorded",
    "/voice/urgency",
    "/voice/impact",
    "/voice/confirm-number",
    "/voice/keyed-number",
    "/voice/transcription",
    "/voice/recording",
    "/voice/status",
    "/voice/fallback",
    "/voice/voicemail",
    "/voice/goodbye",
    "/voice/agent/1/answer",
    "/voice/agent/1/choice",
    "/voice/agent/1/dialed",
    "/voice/urgent/1/whisper/1",
    "/voice/urgent/1/whisper/oncall",
    "/voice/urgent/1/accept/1",
    "/voice/urgent/1/accept/oncall",
    "/voice/urgent/1/hold",
    "/voice/urgent/1/left",
    "/voice/urgent/1/nobody-free",
    "/voice/urgent/1/taken",
    "/voice/urgent/1/bridged/1",
    "/voice/urgent/1/leg-status/1",
    "/voice/urgent/1/message",
]
KEYS = st.text(alphabet="0123456789*#", max_size=20)
GARBAGE = st.text(max_size=40)
CALLERS = st.sampled_from(["+32470123456", "+32475111222", "0470123456", "anonymous", "", "+266696687", "12"]) | GARBAGE
QUERIES = st.sampled_from(
    [
        "",
        "?try=0",
        "?try=1",
        "?try=x",
        "?misses=2",
        "?misses=-1",
        "?attempt=1&leg=customer",
        "?who=1",
        "?who=x",
        "?stage=ringing",
        "?stage=oncall",
        "?stage=zz",
    ]
)

step = st.fixed_dictionaries(
    {
        "path": st.sampled_from(PATHS),
        "query": QUERIES,
        "signed": st.booleans() | st.just(True),
        "CallSid": st.sampled_from(["CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32]) | GARBAGE,
        "From": CALLERS,
        "Digits": KEYS | GARBAGE,
        "SpeechResult": GARBAGE,
        "CallStatus": st.sampled_from(["ringing", "in-progress", "completed", "no-answer", "busy", "failed"]) | GARBAGE,
        "RecordingUrl": st.sampled_from(["", "https://rec.example/RE1"]) | GARBAGE,
        "TranscriptionText": GARBAGE,
        "DialCallStatus": st.sampled_from(["completed", "no-answer", "busy"]) | GARBAGE,
        "DialCallDuration": st.sampled_from(["", "0", "42"]) | GARBAGE,
    }
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_random_webhooks_never_break_the_call(provider, client, steps):
    for request in steps:
        path = request["path"] + request["query"]
        params = {key: value for key, value in request.items() if key[0].isupper() and value != ""}
        if not request["signed"]:
            assert client.post(path, data=params).status_code == 403
            continue
        response = provider.post(path, **params)
        assert response.status_code == 200, (path, params, response.data)
        assert response.mimetype == "text/xml"
        assert ET.fromstring(response.data).tag == "Response"
    open_per_phone = db.session.execute(
        select(Callback.phone, func.count())
        .where(Callback.status.in_(OPEN_CALLBACK_STATUSES))
        .group_by(Callback.phone)
        .having(func.count() > 1)
    ).all()
    assert open_per_phone == []
