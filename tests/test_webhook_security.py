import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Call

IVR_URLS = [
    "/voice/incoming",
    "/voice/main-menu?try=0",
    "/voice/recorded",
    "/voice/urgency?try=0",
    "/voice/impact?try=0",
    "/voice/confirm-number?try=0",
    "/voice/keyed-number?try=0",
    "/voice/ticket-number?misses=0",
    "/voice/ticket-menu?try=0",
    "/voice/status",
    "/voice/fallback",
    "/voice/recording",
    "/voice/voicemail",
    "/voice/goodbye",
    "/voice/agent/1/answer",
    "/voice/agent/1/choice?try=0",
    "/voice/agent/1/dialed",
]


def calls() -> int:
    return db.session.scalar(select(func.count()).select_from(Call))


@pytest.mark.parametrize("path", IVR_URLS)
def test_an_unsigned_webhook_is_refused_and_changes_nothing(client, path):
    response = client.post(path, data={"CallSid": "CAforged", "From": "+32470123456", "Digits": "2"})
    assert response.status_code == 403
    assert calls() == 0


def test_a_forged_signature_is_refused(client, app):
    response = client.post(
        "/voice/incoming",
        data={"CallSid": "CAforged", "From": "+32470123456"},
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    )
    assert response.status_code == 403
    assert calls() == 0


def test_a_signature_for_another_url_is_refused(client, provider, app):
    params = {"CallSid": "CA1", "From": "+32470123456"}
    signature = provider.validator.compute_signature(app.config["PUBLIC_BASE_URL"] + "/voice/status", params)
    response = client.post("/voice/incoming", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_a_signature_over_other_parameters_is_refused(client, provider, app):
    signature = provider.validator.compute_signature(
        app.config["PUBLIC_BASE_URL"] + "/voice/main-menu?try=0", {"CallSid": "CA1", "Digits": "1"}
    )
    response = client.post(
        "/voice/main-menu?try=0", data={"CallSid": "CA1", "Digits": "2"}, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403


def test_a_signed_webhook_is_answered_with_twiml(provider):
    response = provider.post("/voice/incoming")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert b"<Response>" in response.data
    assert calls() == 1
