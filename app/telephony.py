"""The provider's REST API (calls and SMS) and the check of its webhook signatures."""

import logging

from flask import current_app, request
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

log = logging.getLogger(__name__)

REST_TIMEOUT_SECONDS = 10
#: Call statuses after which nothing more happens on a call (Twilio's CallStatus values).
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def rest_client() -> Client:
    """The twilio client for this app, pointed at ``TWILIO_API_BASE_URL`` when set."""
    client = current_app.extensions.get("twilio")
    if client is None:
        config = current_app.config
        client = Client(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            http_client=TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS),
        )
        if config["TWILIO_API_BASE_URL"]:
            client.api.base_url = config["TWILIO_API_BASE_URL"].rstrip("/")
        # twilio loads its call resources on first use (a quarter of a second): now, so a
        # call paced to its turn does not leave late.
        log.debug("REST client ready for %s", client.calls)
        current_app.extensions["twilio"] = client
    return client


def place_call(to: str, url: str, status_callback: str, timeout: int, detect_machine: bool = False) -> str:
    """Ring ``to`` from the desk number; the provider fetches ``url`` on answer. Returns the call SID.

    With ``detect_machine`` the provider holds the ``url`` request until it knows who
    answered and sends ``AnsweredBy`` (human, machine_*, fax, unknown) with it:
    https://www.twilio.com/docs/voice/answering-machine-detection
    """
    extra = {"machine_detection": "Enable"} if detect_machine else {}
    call = rest_client().calls.create(
        to=to,
        from_=current_app.config["DESK_NUMBER"],
        url=url,
        status_callback=status_callback,
        # Only the final status matters (a missed offer); the pickup is reported by the answer URL.
        status_callback_event=["completed"],
        timeout=timeout,
        **extra,
    )
    return call.sid


def end_call(sid: str) -> None:
    """Hang up a call in any state: ``Status=completed`` ends it ringing or answered.

    https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource
    """
    rest_client().calls(sid).update(status="completed")


def cancel_call(sid: str) -> None:
    """Stop a call still queued or ringing; an answered call is left alone (``Status=canceled``)."""
    rest_client().calls(sid).update(status="canceled")


def redirect_call(sid: str, url: str) -> None:
    """Make a live call continue with the TwiML at ``url`` (REST ``Url`` update)."""
    rest_client().calls(sid).update(url=url, method="POST")


def is_machine(answered_by: str | None) -> bool:
    """What answering-machine detection reports for a voicemail or a fax: never a person reached."""
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")


def signature_is_valid() -> bool:
    """Check X-Twilio-Signature against the URL the provider saw: PUBLIC_BASE_URL + path + query."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    url = current_app.config["PUBLIC_BASE_URL"] + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    params = request.form if request.method == "POST" else {}
    return RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"]).validate(url, params, signature)
