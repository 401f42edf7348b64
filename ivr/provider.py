"""The provider's own webhooks for inbound calls: status, recordings, the fallback URL, voicemail."""

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app.extensions import db
from app.models import AttemptOutcome, AttemptStatus
from app.telephony import FINAL_CALL_STATUSES
from callbacks import attempts, jobs, rescue
from ivr import bp
from ivr.calls import call_ended, current_call
from ivr.twiml import answer, say_goodbye
from ivr.webhook import caller_webhook, hang_up, provider_webhook, rescued_call


@bp.post("/status")
@provider_webhook(on_error=hang_up)
def status():
    """Status callbacks of every call: inbound calls, technician legs and customer legs."""
    form = request.form
    call_status = form.get("CallStatus", "")
    if call_status not in FINAL_CALL_STATUSES:
        return answer(hang_up())
    attempt_id = request.args.get("attempt", "")
    if not attempt_id.isdigit():
        call_ended(form.get("CallSid", ""), call_status, form.get("CallDuration"))
        return answer(hang_up())
    attempt = attempts.get(int(attempt_id))
    if attempt is None:
        return answer(hang_up())
    if request.args.get("leg") == "customer":
        duration = form.get("CallDuration", "")
        moved_on = attempts.customer_call_ended(attempt, call_status, int(duration) if duration.isdigit() else None)
    elif attempt.status == AttemptStatus.DIALING_CUSTOMER:
        # The technician hung up after talking, without the after-call menu: its default.
        answered = attempt.talk_seconds is not None or attempt.answered_by is not None
        moved_on = answered and attempts.after_call(attempt, None)
    else:
        # Rang out, refused, or answered and hung up before choosing: a missed offer.
        moved_on = attempts.technician_declined(attempt, AttemptOutcome.TECHNICIAN_MISSED)
    if moved_on:
        jobs.trigger_dispatch()
    return answer(hang_up())


@bp.post("/recording")
@provider_webhook(on_error=hang_up)
def recording():
    """The recording of a problem description is ready: keep its URL on the call and ticket."""
    call = current_call(request.form)
    url = request.form.get("RecordingUrl", "")[:500] or None
    if url:
        call.recording_url = url
        if call.ticket is not None and not call.ticket.recording_url:
            call.ticket.recording_url = url
        db.session.commit()
    return answer(hang_up())


@bp.post("/fallback")
@caller_webhook
def fallback():
    """The provider's Fallback URL: the primary answer failed, so take the safe path at once."""
    return answer(rescued_call())


@bp.post("/voicemail")
@provider_webhook(on_error=hang_up)
def voicemail():
    """A voicemail left on the safe path: it becomes a ticket when the database is back."""
    url = request.form.get("RecordingUrl", "")[:500]
    if url:
        rescue.save_for_later(request.form.get("CallSid", ""), None, current_app.config["DEFAULT_LANGUAGE"], url)
    return answer(hang_up())


@bp.post("/goodbye")
@provider_webhook(on_error=hang_up)
def goodbye():
    return answer(say_goodbye(VoiceResponse(), current_app.config["DEFAULT_LANGUAGE"]))
