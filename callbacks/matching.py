"""Who may take which callback: a technician who speaks the caller's language first.

A callback is offered to technicians who speak its language. After
``LANGUAGE_FALLBACK_SECONDS`` in the queue anyone may take it, and at once when
no technician at work (available, rung, on a call or in wrap-up) speaks it:
waiting for a colleague who is not there helps nobody. A technician who
skipped a callback is not offered it again for ``SKIP_COOLDOWN_SECONDS``, so a
skip really passes it on to the next technician.

Among those who may take it, a speaker of the language comes first, then the
technician idle the longest.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import ColumnElement, exists, or_, select

from app.extensions import db
from app.models import AttemptOutcome, Callback, CallbackAttempt


@dataclass(frozen=True)
class FreeTechnician:
    id: int
    languages: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    """A due callback, as much of it as matching needs; ``skipped``: someone skipped it lately."""

    id: int
    language: str
    queued_at: datetime
    skipped: bool


@cache
def split_languages(languages: str) -> frozenset[str]:
    return frozenset(language.strip() for language in languages.split(",") if language.strip())


def fallback_cutoff(now: datetime) -> datetime:
    """Callbacks queued before this may go to any technician."""
    return now - timedelta(seconds=current_app.config["LANGUAGE_FALLBACK_SECONDS"])


def callback_eligible(free: Iterable[FreeTechnician], at_work: frozenset[str], now: datetime) -> ColumnElement[bool]:
    """Waiting callbacks that one of the ``free`` technicians may take now."""
    spoken = frozenset().union(*(technician.languages for technician in free))
    return or_(
        Callback.language.in_(spoken),
        Callback.queued_at <= fallback_cutoff(now),
        Callback.language.not_in(at_work),
    )


def _skip_cooldown(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["SKIP_COOLDOWN_SECONDS"])


def skipped_lately(now: datetime) -> ColumnElement[bool]:
    """Per callback, read with the candidates: did anyone skip it within the cooldown? (Who, is asked only then.)"""
    return exists().where(
        CallbackAttempt.callback_id == Callback.id,
        CallbackAttempt.outcome == AttemptOutcome.TECHNICIAN_SKIPPED,
        CallbackAttempt.ended_at > _skip_cooldown(now),
    )


def recent_skips(candidates: Sequence[Candidate], now: datetime) -> set[tuple[int, int]]:
    """(callback, technician) pairs where the technician skipped the callback within the cooldown."""
    skipped = [candidate.id for candidate in candidates if candidate.skipped]
    if not skipped:
        return set()
    rows = db.session.execute(
        select(CallbackAttempt.callback_id, CallbackAttempt.technician_id).where(
            CallbackAttempt.callback_id.in_(skipped),
            CallbackAttempt.outcome == AttemptOutcome.TECHNICIAN_SKIPPED,
            CallbackAttempt.ended_at > _skip_cooldown(now),
        )
    )
    return {(callback_id, technician_id) for callback_id, technician_id in rows}


def pair(
    callbacks: Sequence[Candidate],
    free: Sequence[FreeTechnician],
    at_work: frozenset[str],
    skips: set[tuple[int, int]],
    now: datetime,
) -> list[tuple[int, int]]:
    """(callback, technician) pairs, callbacks in queue order, technicians longest idle first.

    Each callback, head first, gets a free speaker of its language if there is
    one, else (once it is open to anyone) the longest idle free technician.
    """
    cutoff = fallback_cutoff(now)
    left = list(free)
    pairs = []
    for callback in callbacks:
        anyone = callback.queued_at <= cutoff or callback.language not in at_work
        chosen = None
        for technician in left:
            if (callback.id, technician.id) in skips:
                continue
            if callback.language in technician.languages:
                chosen = technician
                break
            if anyone and chosen is None:
                chosen = technician
        if chosen is not None:
            pairs.append((callback.id, chosen.id))
            left.remove(chosen)
            if not left:
                break
    return pairs
