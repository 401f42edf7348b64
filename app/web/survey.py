"""The survey pages a customer reaches from the rating links in the mail (app/surveys.py sends it)."""

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from app.messages import LANGUAGES
from app.models import Survey
from app.surveys import COMMENT_MAX_CHARS, read_token, record_comment, record_rating

bp = Blueprint("survey", __name__, url_prefix="/survey")


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
    """A rating link: the first click records its rating; any later one shows what was recorded."""
    survey, rating, problem = read_token(token)
    if survey is None:
        return page(None, problem, status=410 if problem == "expired" else 404)
    # Link checkers send HEAD to see whether a link works: that is not the customer's answer.
    if request.method == "HEAD":
        return page(survey, "preview", token)
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
