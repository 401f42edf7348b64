"""The technician's console: my state, the offer or call I am on, and the wrap-up of the last call.

Like the board it polls its live part every 2 s with htmx. The phone does the
talking (press 1 to call the customer); the console gives the context the
whisper cannot: contract, past attempts, the ticket's notes, and a place to
write the wrap-up and resolve the ticket.
"""

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.clock import DESK_TIMEZONE, as_utc, day_start
from app.directory import contracts
from app.extensions import db
from app.models import AttemptOutcome, AttemptStatus, Callback, CallbackAttempt, Role, Technician, Ticket
from app.tickets import onsite, ticket_store
from app.web.auth import protect_forms, role_required
from app.web.filters import state_label
from app.web.forms import NoteForm
from app.web.i18n import said
from callbacks import attempts, jobs, manage

bp = Blueprint("console", __name__, url_prefix="/console")
protect_forms(bp)
technician_only = role_required(Role.TECHNICIAN)

LIVE_ATTEMPT = (AttemptStatus.RINGING_TECHNICIAN, AttemptStatus.DIALING_CUSTOMER)


def my_technician() -> Technician:
    technician = current_user.technician
    if technician is None:
        abort(403)
    return technician


def live_attempt(technician: Technician) -> CallbackAttempt | None:
    """The offer ringing on my phone, or the customer call I am on."""
    return db.session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.technician_id == technician.id, CallbackAttempt.status.in_(LIVE_ATTEMPT))
        .order_by(CallbackAttempt.id.desc())
    ).first()


def wrap_up_attempt(technician: Technician) -> CallbackAttempt | None:
    """My last connected call today whose ticket is still open: what the wrap-up is about."""
    return db.session.scalars(
        select(CallbackAttempt)
        .join(CallbackAttempt.callback)
        .where(
            CallbackAttempt.technician_id == technician.id,
            CallbackAttempt.outcome == AttemptOutcome.CONNECTED,
            CallbackAttempt.ended_at >= day_start(),
        )
        .order_by(CallbackAttempt.id.desc())
    ).first()


def past_attempts(callback_id: int) -> list[CallbackAttempt]:
    return list(
        db.session.scalars(
            select(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id).order_by(CallbackAttempt.id)
        )
    )


def console_context(message: str | None = None) -> dict:
    technician = my_technician()
    current = live_attempt(technician)
    last = None if current else wrap_up_attempt(technician)
    if last is not None and last.callback.ticket.status == "closed":
        last = None
    focus = current or last
    choosing = current if current is not None and attempts.awaiting_after_call(current) else None
    ticket = focus.callback.ticket if focus else None
    company = ticket.customer_company if ticket else None
    return {
        "technician": technician,
        "current": current,
        "last": last,
        "choosing": choosing,
        "ticket": ticket,
        "company": company,
        "onsite_included": contracts.includes_onsite(contracts.in_force(company)),
        "attempts": past_attempts(focus.callback_id) if focus else [],
        "note_form": NoteForm(),
        "message": message,
    }


def _after_action(message: str | None) -> Response:
    if request.headers.get("HX-Request"):
        return Response(render_template("console/live.html", **console_context(message)))
    if message:
        flash(message)
    return redirect(url_for("console.page"))


def _my_ticket(ticket_id: int) -> Ticket:
    """A ticket I have had a callback attempt on; any other is not mine to note or resolve."""
    ticket = db.session.get(Ticket, ticket_id)
    mine = db.session.scalar(
        select(CallbackAttempt.id)
        .join(Callback, Callback.id == CallbackAttempt.callback_id)
        .where(CallbackAttempt.technician_id == my_technician().id, Callback.ticket_id == ticket_id)
        .limit(1)
    )
    if ticket is None or mine is None:
        abort(404)
    return ticket


@bp.get("")
@technician_only
def page():
    return render_template("console/page.html", **console_context())


@bp.get("/live")
@technician_only
def live():
    return render_template("console/live.html", **console_context())


@bp.post("/state")
@technician_only
def set_state():
    state = request.form.get("state", "")
    if state not in ("available", "away"):
        return _after_action(_("Choose available or away."))
    try:
        technician = manage.set_technician_state(my_technician().id, state)
    except (manage.NotFound, manage.Refused) as refusal:
        return _after_action(said(refusal))
    return _after_action(_("You are %(state)s.", state=state_label(technician.state)))


def outcome_messages() -> dict[AttemptOutcome, str]:
    return {
        AttemptOutcome.CONNECTED: _("Noted: you spoke with the customer. The callback is completed."),
        AttemptOutcome.VOICEMAIL: _("Noted: voicemail or nobody. The callback waits in its place for another try."),
        AttemptOutcome.WRONG_NUMBER: _("Noted: a wrong number. The callback ends unreachable and is flagged."),
    }


@bp.post("/attempts/<int:attempt_id>/outcome")
@technician_only
def choose_outcome(attempt_id: int):
    """How the customer call just ended went: the after-call menu's three answers, from the console."""
    attempt = attempts.get(attempt_id)
    if attempt is None or attempt.technician_id != my_technician().id:
        abort(404)
    chosen = request.form.get("outcome", "")
    outcome = next((choice for choice in attempts.AFTER_CALL_CHOICES if choice == chosen), None)
    if outcome is None:
        return _after_action(_("Choose how the call went."))
    if not attempts.awaiting_after_call(attempt) or not attempts.after_call(attempt, outcome):
        db.session.expire_all()
        return _after_action(_("How this call went is already recorded."))
    jobs.trigger_dispatch()
    return _after_action(outcome_messages()[outcome])


@bp.post("/tickets/<int:ticket_id>/notes")
@technician_only
def add_note(ticket_id: int):
    ticket = _my_ticket(ticket_id)
    form = NoteForm()
    if not form.validate():
        return _after_action(_("Write a note first (at most 5000 characters)."))
    ticket_store().add_note(ticket, f"{my_technician().name}: {form.note.data.strip()}")
    return _after_action(_("Note saved to ticket %(number)s.", number=ticket.number))


@bp.post("/tickets/<int:ticket_id>/onsite")
@technician_only
def plan_onsite(ticket_id: int):
    """Plan an on-site visit: free under Wise and Magic, otherwise only once agreed as billable."""
    ticket = _my_ticket(ticket_id)
    try:
        local = datetime.strptime(request.form.get("when", ""), "%Y-%m-%dT%H:%M").replace(tzinfo=DESK_TIMEZONE)
    except ValueError:
        return _after_action(_("Choose the day and time of the visit."))
    when = as_utc(local)
    try:
        onsite.plan_onsite_visit(ticket, when, my_technician().name, billable=bool(request.form.get("billable")))
    except (onsite.OnsiteNotIncluded, ValueError) as refusal:
        return _after_action(said(refusal))
    return _after_action(_("On-site visit planned for ticket %(number)s.", number=ticket.number))


@bp.post("/tickets/<int:ticket_id>/resolve")
@technician_only
def resolve(ticket_id: int):
    ticket = _my_ticket(ticket_id)
    if ticket.status == "closed":
        return _after_action(_("Ticket %(number)s is already closed.", number=ticket.number))
    ticket_store().close(ticket)
    return _after_action(_("Ticket %(number)s resolved and closed.", number=ticket.number))
