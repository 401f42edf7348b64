"""How the pages write times, durations, phone numbers and customers (Jinja filters and helpers)."""

from datetime import datetime

from flask import Flask

from app import phone
from app.clock import local, utcnow
from app.models import Callback


def register(app: Flask) -> None:
    app.add_template_filter(elapsed, "elapsed")
    app.add_template_filter(phone_number, "phone")
    app.add_template_filter(clock, "clock")
    app.add_template_global(customer_name)
    app.add_template_global(company_name)


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


def spreadsheet_safe(text: str) -> str:
    """Free text that a spreadsheet would run as a formula gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
