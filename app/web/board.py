"""The manager's callback board: the queue, calls in progress, technicians and today's figures, live.

The page polls ``/board/live`` every 2 s with htmx (plain requests, so it works
under gunicorn's default sync workers). Actions post a small form; an htmx post
gets the fresh board back, a plain post is redirected to the page.
"""

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.clock import day_start, local, utcnow
from app.extensions import db
from app.models import Callback, CallbackAttempt, CallbackStatus, Contact, Role, Technician, Ticket
from app.web.auth import protect_forms, role_required
from app.web.charts import distribution_chart, queue_chart
from app.web.figures import day_figures
from app.web.filters import company_name, customer_name
from app.web.forms import PriorityForm, TechnicianStateForm
from callbacks import manage, urgent
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
    queue = with_row_details(waiting())
    return {
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
        "queue_chart": queue_chart(figures["queue_length"]),
        "distribution_chart": distribution_chart(figures["distribution"]),
    }


def spreadsheet_safe(text: str) -> str:
    """Free text that a spreadsheet would run as a formula gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


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
        return _after_action(str(refusal))
    return _after_action(f"Callback for ticket {callback.ticket.number} cancelled.")


@bp.post("/callbacks/<int:callback_id>/priority")
@manager_only
def change_priority(callback_id: int):
    form = PriorityForm()
    if not form.validate():
        return _after_action("Choose a priority from 1 (highest) to 4.")
    try:
        callback = manage.reprioritise(callback_id, form.priority.data, by=current_user.username)
    except (manage.NotFound, manage.Refused) as refusal:
        return _after_action(str(refusal))
    return _after_action(f"Ticket {callback.ticket.number} is now priority {callback.priority}.")


@bp.post("/technicians/<int:technician_id>/state")
@manager_only
def technician_state(technician_id: int):
    form = TechnicianStateForm()
    if not form.validate():
        return _after_action("Choose available, away or offline.")
    try:
        technician = manage.set_technician_state(technician_id, form.state.data)
    except (manage.NotFound, manage.Refused) as refusal:
        return _after_action(str(refusal))
    return _after_action(f"{technician.name} is now {technician.state}.")


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
