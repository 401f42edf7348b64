"""Announcements: a short message per language, played to every caller after the language choice until it ends."""

import logging
from datetime import datetime

from sqlalchemy import select

from app import messages
from app.clock import utcnow
from app.extensions import db
from app.models import Announcement
from app.wording import Invalid

log = logging.getLogger(__name__)

#: Longest announcement, in characters (a caller hears it before anything else).
MAX_LENGTH = 500


def announce(language: str, text: str, ends_at: datetime, by: str) -> Announcement:
    """Play ``text`` to callers of ``language`` until ``ends_at`` (naive UTC), instead of the current one."""
    if language not in messages.LANGUAGES:
        raise Invalid("The language is one of %(languages)s.", languages=", ".join(messages.LANGUAGES))
    text = " ".join(text.split())
    if not text or len(text) > MAX_LENGTH:
        raise Invalid("An announcement is 1 to %(max)s characters.", max=MAX_LENGTH)
    if ends_at <= utcnow():
        raise Invalid("An announcement ends in the future.")
    end(language)
    announcement = Announcement(language=language, text=text, ends_at=ends_at, created_by=by)
    db.session.add(announcement)
    db.session.commit()
    log.info("announcement in %s by %s until %s: %s", language, by, ends_at.isoformat(timespec="minutes"), text)
    return announcement


def end(language: str) -> int:
    """End the language's current announcement now; how many were ended."""
    now = utcnow()
    ended = 0
    for announcement in db.session.scalars(
        select(Announcement).where(Announcement.language == language, Announcement.ends_at > now)
    ):
        announcement.ends_at = now
        ended += 1
    db.session.commit()
    return ended


def current(language: str) -> Announcement | None:
    """The announcement callers of ``language`` hear now, if any."""
    return db.session.scalars(
        select(Announcement)
        .where(Announcement.language == language, Announcement.ends_at > utcnow())
        .order_by(Announcement.created_at.desc(), Announcement.id.desc())
    ).first()


def active() -> list[Announcement]:
    """Every announcement playing now, one per language at most (for the board)."""
    return [announcement for language in messages.LANGUAGES if (announcement := current(language)) is not None]
