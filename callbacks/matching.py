"""Who may take which callback: a technician who speaks the caller's language first.

A callback is offered to technicians who speak its language. After
``LANGUAGE_FALLBACK_SECONDS`` in the queue anyone may take it, and at once when
no technician at work (available, rung, on a call or in wrap-up) speaks it:
waiting for a colleague who is not there helps nobody. A technician who
skipped a callback is not offered it again for ``SKIP_COOLDOWN_SECONDS``, so a
skip really passes it on to the next technician.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, case, exists, literal, or_, select

from app.extensions import db
from app.models import Callback, CallbackAttempt, Outcome, Technician, TechnicianState

#: States in which a technician is at work today.
AT_WORK = (TechnicianState.AVAILABLE, TechnicianState.OFFERED, TechnicianState.ON_CALL, TechnicianState.WRAP_UP)


@dataclass(frozen=True)
class Staff:
    """The languages spoken right now: by free technicians, and by anyone at work."""

    free: frozenset[str]
    at_work: frozenset[str]

    @property
    def anyone_free(self) -> bool:
        return bool(self.free)


def split_languages(languages: str) -> set[str]:
    return {language.strip() for language in languages.split(",") if language.strip()}


def staff() -> Staff:
    """One small query: the distinct language sets of technicians at work."""
    rows = db.session.execute(
        select(Technician.state, Technician.languages).where(Technician.state.in_(AT_WORK)).distinct()
    ).all()
    free: set[str] = set()
    at_work: set[str] = set()
    for state, languages in rows:
        spoken = split_languages(languages)
        at_work |= spoken
        if state == TechnicianState.AVAILABLE:
            free |= spoken
    return Staff(frozenset(free), frozenset(at_work))


def fallback_cutoff(now: datetime) -> datetime:
    """Callbacks queued before this may go to any technician."""
    return now - timedelta(seconds=current_app.config["LANGUAGE_FALLBACK_SECONDS"])


def callback_eligible(team: Staff, now: datetime) -> ColumnElement[bool]:
    """Waiting callbacks some free technician may take now."""
    return or_(
        Callback.language.in_(team.free),
        Callback.queued_at <= fallback_cutoff(now),
        Callback.language.not_in(team.at_work),
    )


def open_to_anyone(callback: Callback, team: Staff, now: datetime) -> bool:
    return callback.queued_at <= fallback_cutoff(now) or callback.language not in team.at_work


def speaks(language: str) -> ColumnElement[bool]:
    """The technician's comma-separated languages include ``language``."""
    return (literal(",") + Technician.languages + literal(",")).like(f"%,{language},%")


def technician_statement(callback: Callback, team: Staff, now: datetime) -> Select:
    """The free technician who should get ``callback``: a speaker of its language, then the longest idle."""
    cooldown = now - timedelta(seconds=current_app.config["SKIP_COOLDOWN_SECONDS"])
    skipped_it = exists().where(
        CallbackAttempt.callback_id == callback.id,
        CallbackAttempt.technician_id == Technician.id,
        CallbackAttempt.outcome == Outcome.TECHNICIAN_SKIPPED,
        CallbackAttempt.ended_at > cooldown,
    )
    statement = select(Technician).where(Technician.state == TechnicianState.AVAILABLE, ~skipped_it)
    speaker = speaks(callback.language)
    if not open_to_anyone(callback, team, now):
        statement = statement.where(speaker)
    return statement.order_by(case((speaker, 0), else_=1), Technician.state_since, Technician.id).limit(1)
