"""The guard around every provider webhook (signature first, and never a 5xx), the safe
path a caller hears when a step fails, and the menu keys every step reads.

An unsigned or forged request gets 403 and touches nothing. A signed request
whose handler fails (database down, Redis down, a bug) still gets valid TwiML
from ``on_error``, which must not need the database.
"""

import functools
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import phone, urls
from app.models import Call
from app.sql import abandon, rollback
from app.telephony import signature_is_valid
from callbacks import limits, rescue
from ivr.twiml import answer, attempt_number, menu, say_goodbye, speak

log = logging.getLogger(__name__)


class OverBudget(BaseException):
    """The webhook ran out of its time budget (a stalled database or Redis): answer with the safe path.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way (an
    enqueue that logs and goes on, say) swallows it and carries on without a budget; SQLAlchemy
    then drops the connection it interrupted instead of reusing it.
    """


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Interrupt the step after ``seconds`` (SIGALRM), so the provider hears an answer in time.

    A stalled server (stopped, not refusing) leaves the client waiting with no error; the
    statement and socket timeouts bound most waits, this bounds them all. Signals reach the
    main thread only: gunicorn's sync workers serve requests there; elsewhere (the threaded
    test server) the step runs without a budget.
    """
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def expire(_signum, _frame) -> None:
        raise OverBudget(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def provider_webhook(on_error: Callable[[], VoiceResponse]):
    """Decorate a view that answers the provider with TwiML."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def guarded(*args, **kwargs) -> Response:
            if not signature_is_valid():
                abort(403)
            try:
                with time_budget(current_app.config["WEBHOOK_BUDGET_SECONDS"]):
                    response = view(*args, **kwargs)
            except OverBudget:
                log.error("webhook %s ran out of its time budget; answering with the safe path", view.__name__)
                abandon()  # the connection may be stuck mid-statement: a rollback would wait as well
                return answer(_safely(on_error))
            except Exception:
                log.exception("webhook %s failed; answering with the safe path", view.__name__)
                rollback()
                return answer(_safely(on_error))
            drain_spool_after(response)
            return response

        return guarded

    return decorate


def drain_spool_after(response: Response) -> None:
    """Promises this host spooled while the database was down are taken once a webhook succeeds here.

    The reconciler drains the spool of the host it runs on; a web host of its own would keep its
    spool until then. The check is one stat of a file that rarely exists; the drain runs after the
    answer is sent, so the provider never waits for it.
    """
    if not rescue.spooled_here():
        return
    app = current_app._get_current_object()

    def drain() -> None:
        with app.app_context():
            try:
                taken = rescue.drain_spool()
            except Exception:
                log.exception("the rescue spool could not be drained here; the reconciler will")
            else:
                log.info("rescue spool drained after a webhook: %d promise(s) taken", taken)

    response.call_on_close(drain)


def _safely(on_error: Callable[[], VoiceResponse]) -> VoiceResponse:
    """The error answer itself may fail (a full disk, say): then a bare hang-up, still valid TwiML."""
    try:
        return on_error()
    except Exception:
        log.exception("the safe path failed as well")
        return hang_up()


def hang_up() -> VoiceResponse:
    """The safe answer to a status callback or a technician's leg: end politely."""
    twiml = VoiceResponse()
    twiml.hangup()
    return twiml


def rescued_call() -> VoiceResponse:
    """What a caller hears when a step failed: an apology and the safest next step.

    Needs no database: the callback promise goes to Redis (or a spool file).
    """
    language = current_app.config["DEFAULT_LANGUAGE"]
    caller = phone.normalise(request.form.get("From"), current_app.config["PHONE_REGION"])
    twiml = VoiceResponse()
    speak(twiml, language, "technical_problem")
    if not limits.may_call_back(caller):
        speak(twiml, language, "rescue_voicemail")
        twiml.record(
            action=urls.external("ivr.goodbye"),
            finish_on_key="#",
            max_length=current_app.config["RECORDING_MAX_SECONDS"],
            recording_status_callback=urls.external("ivr.voicemail"),
        )
        return say_goodbye(twiml, language)
    rescue.save_for_later(request.form.get("CallSid", ""), caller, language)
    return say_goodbye(twiml, language, "rescue_callback", phone=phone.spoken(caller))


caller_webhook = provider_webhook(on_error=rescued_call)


def choice(options: str, default: str) -> str | None:
    """The key pressed among ``options``; None asks for the repeat, after which ``default`` holds."""
    digits = request.form.get("Digits", "")
    if len(digits) == 1 and digits in options:
        return digits
    return default if attempt_number(request.args.get("try")) >= 1 else None


def repeat(call: Call, prompt: str, endpoint: str, **values: object):
    return answer(menu(VoiceResponse(), call.language, prompt, endpoint, attempt=1, **values))
