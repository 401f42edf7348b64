"""The survey pages a customer reaches from the rating links in the mail (app/surveys.py sends it)."""

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from app.messages import LANGUAGES
from app.models import Survey
from app.surveys import COMMENT_MAX_CHARS, read_token, record_comment, record_rating

bp = Blueprint("survey", __name__, url_prefix="/survey")

#: What the page's rating buttons may send.
RATINGS = ("1", "2", "3", "4", "5")


def page(survey: Survey | None, state: str, token: str = "", status: int = 200, **values: Any) -> Response:
    language = survey.language if survey is not None and survey.language in LANGUAGES else None
    language = language or browser_language()
    html = render_template(
        f"survey/{language}/page.html", language=language, state=state, survey=survey, token=token, **values
    )
    return Response(html, status=status)


def browser_language() -> str:
    """For a link that names no survey: the browser's language, else the desk's default."""
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best
    default = current_app.config["DEFAULT_LANGUAGE"]
    return default if default in LANGUAGES else "en"


@bp.get("/<token>")
def rate(token: str) -> Response:
    """A rating link shows the rating chosen in the mail, preselected, to be sent with one press.

    Nothing is recorded on GET: mail scanners (Safe Links, Mimecast, Proofpoint) fetch every
    link of a mail, and the first link fetched would become the customer's rating.
    """
    survey, rating, problem = read_token(token)
    if survey is None:
        return page(None, problem, status=410 if problem == "expired" else 404)
    if request.method == "HEAD":
        return page(survey, "preview", token)
    if survey.rating is not None:
        return page(survey, "already", token)
    return page(survey, "confirm", token, rating=rating)


@bp.post("/<token>")
def record(token: str) -> Response:
    """The customer's rating: the one chosen on the page, else the link's; the first one counts."""
    survey, rating, problem = read_token(token)
    if survey is None:
        return page(None, problem, status=410 if problem == "expired" else 404)
    chosen = request.form.get("rating", "")
    if chosen in RATINGS:
        rating = int(chosen)
    if record_rating(survey, rating):
        return page(survey, "thanks", token)
    return page(survey, "already", token)


@bp.post("/<token>/comment")
def comment(token: str) -> Response:
    """The optional comment after a rating; one per survey."""
    survey, _rating, problem = read_token(token)
    if survey is None:
        return page(None, problem, status=410 if problem == "expired" else 404)
    text = request.form.get("comment", "").strip()
    if not text or len(text) > COMMENT_MAX_CHARS:
        return page(survey, "thanks", token, status=400, comment_error=True, comment=text[:COMMENT_MAX_CHARS])
    if survey.rating is None or not record_comment(survey, text):
        return page(survey, "comment_already", token)
    return page(survey, "comment_thanks", token)
