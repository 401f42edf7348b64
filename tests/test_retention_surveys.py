"""Retention covers survey mails: past RETENTION_DAYS a survey keeps its rating, not the e-mail or comment."""

from datetime import timedelta

from app import retention
from app.clock import utcnow
from app.extensions import db
from app.models import Survey
from app.tickets import ticket_store


def survey(sent_days_ago: float, comment: str | None = "Quick and kind") -> Survey:
    ticket = ticket_store().create(title="Mail", priority=3)
    sent = utcnow() - timedelta(days=sent_days_ago)
    row = Survey(ticket_id=ticket.id, state="sent", email="an@deklok.example", sent_at=sent, rating=4, comment=comment)
    row.created_at = sent
    db.session.add(row)
    db.session.commit()
    return row


def test_old_surveys_lose_the_email_and_comment_but_keep_the_rating(app):
    app.config["RETENTION_DAYS"] = 30
    old, recent = survey(40), survey(5)
    assert retention.purge(dry_run=True).surveys == 1
    db.session.expire_all()
    assert db.session.get(Survey, old.id).email == "an@deklok.example"  # a dry run changes nothing
    done = retention.purge()
    assert done.surveys == 1
    db.session.expire_all()
    purged, kept = db.session.get(Survey, old.id), db.session.get(Survey, recent.id)
    assert (purged.email, purged.comment, purged.rating) == (None, None, 4)
    assert (kept.email, kept.comment) == ("an@deklok.example", "Quick and kind")
    assert retention.purge().surveys == 0  # nothing left to remove
