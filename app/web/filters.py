"""How the pages write times, durations, phone numbers and customers (Jinja filters and helpers)."""

from datetime import datetime

from flask import Flask
from flask_babel import lazy_gettext as _l

from app import phone
from app.clock import local, utcnow
from app.models import Callback, TicketStatus

#: A ticket's status as the pages name it.
TICKET_STATUS_NAMES = {
    TicketStatus.NEW: _l("new"),
    TicketStatus.IN_PROGRESS: _l("in progress"),
    TicketStatus.WAITING_CUSTOMER: _l("waiting for customer"),
    TicketStatus.RESOLVED: _l("resolved"),
    TicketStatus.CLOSED: _l("completed"),
}


def register(app: Flask) -> None:
    app.add_template_filter(elapsed, "elapsed")
    app.add_template_filter(phone_number, "phone")
    app.add_template_filter(clock, "clock")
    app.add_template_filter(ticket_status, "ticket_status")
    app.add_template_filter(state_label, "state_label")
    app.add_template_global(customer_name)
    app.add_template_global(company_name)


#: How a page names a technician's or an attempt's state, in the reader's language.
STATE_LABELS = {
    "offline": _l("offline"),
    "available": _l("available"),
    "offered": _l("offered"),
    "on_call": _l("on call"),
    "wrap_up": _l("wrap up"),
    "away": _l("away"),
    "ringing_technician": _l("ringing technician"),
    "dialing_customer": _l("dialing customer"),
    "connected": _l("connected"),
    "voicemail": _l("voicemail"),
    "wrong_number": _l("wrong number"),
    "no_answer": _l("no answer"),
    "busy": _l("busy"),
    "failed": _l("failed"),
    "technician_missed": _l("technician missed"),
    "technician_skipped": _l("technician skipped"),
    "cancelled": _l("cancelled"),
    "not_rung": _l("not rung"),
    "waiting": _l("waiting"),
    "unreachable": _l("unreachable"),
    "new": _l("new"),
    "in_progress": _l("in progress"),
    "waiting_customer": _l("waiting for customer"),
    "completed": _l("completed"),
    "closed": _l("closed"),
}


def state_label(state: str) -> str:
    """A state as people read it: "wrap up", "en pause", "wacht op klant"."""
    return str(STATE_LABELS.get(state, state.replace("_", " ")))


def elapsed(moment: datetime | None) -> str:
    """How long ago, as a desk reads it: "45 s", "12 min", "2 h 05"."""
    if moment is None:
        return ""
    seconds = max(0, int((utcnow() - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"


def phone_number(e164: str | None) -> str:
    """A number as the desk writes it: national format for Belgium, international otherwise."""
    return phone.display(e164) if e164 else ""


def clock(moment: datetime | None) -> str:
    """A stored time as the desk's wall clock shows it: "14:05"."""
    return local(moment).strftime("%H:%M") if moment else ""


def customer_name(callback: Callback) -> str:
    """Who the callback is for: the contact's name, else the number."""
    contact = callback.ticket.contact
    return contact.name if contact is not None else phone.display(callback.phone)


def company_name(callback: Callback) -> str:
    """The callback's company, or nothing for a caller we do not know."""
    company = callback.ticket.customer_company
    return company.name if company is not None else ""


def ticket_status(status: str) -> str:
    """A ticket's status in the page's language: "in progress", "completed"."""
    return str(TICKET_STATUS_NAMES.get(status, status.replace("_", " ")))


#: What starts a formula in Excel, LibreOffice or Google Sheets; tab and carriage return too (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Free text that a spreadsheet would run as a formula gets a leading quote."""
    return "'" + text if text[:1] in FORMULA_STARTS else text
