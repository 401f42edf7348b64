"""The manager's callback board: the queue, calls in progress, technicians and today's figures, live.

The page polls ``/board/live`` every 2 s with htmx (plain requests, so it works
under gunicorn's default sync workers). Actions post a small form; an htmx post
gets the fresh board back, a plain post is redirected to the page.
"""

import csv
import io
from datetime import timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.clock import day_start, local, utcnow
from app.extensions import db
from app.messages import LANGUAGES
from app.models import Callback, CallbackAttempt, CallbackStatus, Company, Contact, Role, Technician, Ticket
from app.surveys import csat_summary, feedback
from app.web.auth import protect_forms, role_required
from app.web.charts import distribution_chart, queue_chart
from app.web.figures import day_figures
from app.web.filters import company_name, customer_name, spreadsheet_safe, state_label
from app.web.forms import PriorityForm, TechnicianStateForm
from app.web.i18n import said
from callbacks import announcements, incidents, manage, urgent
from callbacks.queue import waiting

bp = Blueprint("board", __name__, url_prefix="/board")
protect_forms(bp)
manager_only = role_required(Role.MANAGER)

CSV_COLUMNS = (
    "id",
    "ticket",
    "status",
    "priority",
    "phone",
    "customer",
    "company",
    "language",
    "attempts",
    "technician",
    "queued_at",
    "ended_at",
)


#: The periods the board's CSAT can cover: days before today's start.
CSAT_PERIODS = {"today": 0, "7d": 6, "30d": 29}

#: What a board row reads of a callback, loaded up front instead of one query per row.
ROW_DETAILS = (
    selectinload(Callback.ticket).selectinload(Ticket.contact).selectinload(Contact.company),
    selectinload(Callback.ticket).selectinload(Ticket.company),
    selectinload(Callback.technician),
)


def with_row_details(callbacks: list[Callback]) -> list[Callback]:
    """Load the tickets, contacts and companies of ``callbacks`` in a few queries (not per row)."""
    if callbacks:
        db.session.scalars(
            select(Callback).where(Callback.id.in_([c.id for c in callbacks])).options(*ROW_DETAILS)
        ).all()
    return callbacks


def attempt_outcomes(callback_ids: list[int]) -> dict[int, list[str]]:
    """Each callback's attempts' outcomes in order (a retry shows why: voicemail, no answer, …)."""
    outcomes: dict[int, list[str]] = {}
    ended = (
        select(CallbackAttempt.callback_id, CallbackAttempt.outcome)
        .where(CallbackAttempt.callback_id.in_(callback_ids or [0]), CallbackAttempt.outcome.is_not(None))
        .order_by(CallbackAttempt.id)
    )
    for callback_id, outcome in db.session.execute(ended):
        outcomes.setdefault(callback_id, []).append(outcome)
    return outcomes


def board_context() -> dict:
    """Everything the live part of the board shows."""
    now = utcnow()
    in_progress = db.session.scalars(
        select(Callback)
        .where(Callback.status.in_((CallbackStatus.OFFERED, CallbackStatus.IN_PROGRESS)))
        .order_by(Callback.status_since)
        .options(*ROW_DETAILS)
    ).all()
    activity = {callback.technician_id: callback for callback in in_progress if callback.technician_id}
    technicians = db.session.scalars(select(Technician).order_by(Technician.name)).all()
    figures = day_figures(now)
    period = request.args.get("csat") if request.args.get("csat") in CSAT_PERIODS else "today"
    csat_since = day_start(now) - timedelta(days=CSAT_PERIODS[period])
    queue = with_row_details(waiting())
    return {
        "csat_period": period,
        "csat_periods": CSAT_PERIODS,
        "csat": csat_summary(csat_since),
        "feedback": feedback(csat_since),
        "now": now,
        "waiting": list(enumerate(queue, start=1)),
        "outcomes": attempt_outcomes([callback.id for callback in queue]),
        "wrong_numbers": db.session.scalars(
            select(Callback)
            .where(Callback.wrong_number.is_(True), Callback.ended_at >= day_start())
            .order_by(Callback.ended_at)
            .options(*ROW_DETAILS)
        ).all(),
        "in_progress": in_progress,
        "urgent": urgent.in_progress(),
        "technicians": technicians,
        "activity": activity,
        "figures": figures,
        "proposals": incidents.proposals(now),
        "incidents": [(incident, incidents.mergeable(incident)) for incident in incidents.open_incidents()],
        "announcements": announcements.active(),
        "companies": db.session.execute(select(Company.id, Company.name).order_by(Company.name)).all(),
        "languages": LANGUAGES,
        "local": local,
        "queue_chart": queue_chart(figures["queue_length"]),
        "distribution_chart": distribution_chart(figures["distribution"]),
    }


@bp.get("")
@manager_only
def page():
    return render_template("board/page.html", **board_context())


@bp.get("/live")
@manager_only
def live():
    return render_template("board/live.html", **board_context())


def _after_action(message: str | None) -> Response:
    """htmx gets the fresh board (with the message); a plain form post goes back to the page."""
    if request.headers.get("HX-Request"):
        return Response(render_template("board/live.html", message=message, **board_context()))
    if message:
        flash(message)
    return redirect(url_for("board.page"))


@bp.post("/callbacks/<int:callback_id>/cancel")
@manager_only
def cancel(callback_id: int):
    try:
        callback = manage.cancel(callback_id, by=current_user.username)
    except (manage.NotFound, manage.Refused) as refusal:
        return _after_action(said(refusal))
    return _after_action(_("Callback for ticket %(ticket)s cancelled.", ticket=callback.ticket.number))


@bp.post("/callbacks/<int:callback_id>/priority")
@manager_only
def change_priority(callback_id: int):
    form = PriorityForm()
    if not form.validate():
        return _after_action(_("Choose a priority from 1 (highest) to 4."))
    try:
        callback = manage.reprioritise(callback_id, form.priority.data, by=current_user.username)
    except (manage.NotFound, manage.Refused) as refusal:
        return _after_action(said(refusal))
    return _after_action(
        _("Ticket %(ticket)s is now priority %(priority)s.", ticket=callback.ticket.number, priority=callback.priority)
    )


@bp.post("/technicians/<int:technician_id>/state")
@manager_only
def technician_state(technician_id: int):
    form = TechnicianStateForm()
    if not form.validate():
        return _after_action(_("Choose available, away or offline."))
    try:
        technician = manage.set_technician_state(technician_id, form.state.data)
    except (manage.NotFound, manage.Refused) as refusal:
        return _after_action(said(refusal))
    return _after_action(_("%(name)s is now %(state)s.", name=technician.name, state=state_label(technician.state)))


def _texts(prefix: str) -> dict[str, str]:
    """One text for every language (``prefix``) unless a language has its own (``prefix_nl``…)."""
    form = request.form
    return incidents.texts_per_language(
        form.get(prefix, "")[:1000], **{lang: form.get(f"{prefix}_{lang}", "")[:1000] for lang in LANGUAGES}
    )


@bp.post("/incidents")
@manager_only
def declare_incident():
    """Declare an incident for one company (``company_id``) or for every caller (none given)."""
    raw_company = request.form.get("company_id", "")
    company_id = int(raw_company) if raw_company.isdigit() else None
    try:
        incident = incidents.open_incident(
            company_id, request.form.get("title", ""), _texts("say"), by=current_user.username
        )
    except (ValueError, manage.NotFound) as refusal:
        return _after_action(said(refusal))
    return _after_action(_("Incident declared: %(title)s.", title=incident.title))


@bp.post("/incidents/<int:incident_id>/update")
@manager_only
def update_incident(incident_id: int):
    try:
        incidents.post_update(incident_id, _texts("text"), by=current_user.username)
    except (ValueError, manage.NotFound, manage.Refused) as refusal:
        return _after_action(said(refusal))
    return _after_action(_("Update sent to the callers of incident %(id)s.", id=incident_id))


@bp.post("/incidents/<int:incident_id>/close")
@manager_only
def close_incident(incident_id: int):
    try:
        incidents.close(incident_id, _texts("text"), by=current_user.username)
    except (manage.NotFound, manage.Refused) as refusal:
        return _after_action(said(refusal))
    return _after_action(_("Incident %(id)s resolved; its callers are told.", id=incident_id))


@bp.post("/incidents/<int:incident_id>/merge/<int:callback_id>")
@manager_only
def merge_callback(incident_id: int, callback_id: int):
    try:
        callback = incidents.merge(incident_id, callback_id, by=current_user.username)
    except (manage.NotFound, manage.Refused) as refusal:
        return _after_action(said(refusal))
    return _after_action(_("Ticket %(ticket)s merged into the incident.", ticket=callback.ticket.number))


@bp.post("/announcements")
@manager_only
def announce():
    form = request.form
    minutes = form.get("minutes", "")
    if not minutes.isdigit() or not 1 <= int(minutes) <= 7 * 24 * 60:
        return _after_action(_("Say for how many minutes the announcement plays."))
    try:
        announcements.announce(
            form.get("language", ""),
            form.get("text", ""),
            utcnow() + timedelta(minutes=int(minutes)),
            by=current_user.username,
        )
    except ValueError as refusal:
        return _after_action(said(refusal))
    return _after_action(_("Announcement set."))


@bp.post("/announcements/<language>/end")
@manager_only
def end_announcement(language: str):
    announcements.end(language)
    return _after_action(_("Announcement ended."))


@bp.get("/export.csv")
@manager_only
def export():
    """Today's callbacks (queued today, or still open from before), one row each."""
    since = day_start()
    callbacks = db.session.scalars(
        select(Callback)
        .join(Ticket)
        .where(or_(Callback.queued_at >= since, Callback.ended_at >= since, Callback.ended_at.is_(None)))
        .order_by(Callback.queued_at, Callback.id)
        .options(*ROW_DETAILS)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for callback in callbacks:
        writer.writerow(
            [
                callback.id,
                callback.ticket.number,
                callback.status,
                callback.priority,
                callback.phone,
                spreadsheet_safe(customer_name(callback)),
                spreadsheet_safe(company_name(callback)),
                callback.language,
                callback.attempts,
                spreadsheet_safe(callback.technician.name if callback.technician else ""),
                local(callback.queued_at).isoformat(timespec="seconds"),
                local(callback.ended_at).isoformat(timespec="seconds") if callback.ended_at else "",
            ]
        )
    filename = f"callbacks-{local().date().isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
