"""The prompt catalog: one TOML file per language under ivr/prompts/.

Prompt text lives there, never in view code. A prompt with a recorded version
(``[audio]``) is played; otherwise it is spoken with the language's voice.
"""

import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path

from app import clock
from app.messages import LANGUAGES
from app.opening_hours import Window

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"


@cache
def _catalog(language: str) -> dict:
    with (PROMPTS_DIR / f"{language}.toml").open("rb") as source:
        return tomllib.load(source)


def supported(language: str | None, default: str) -> str:
    """``language`` if the desk speaks it (every language has a catalog), else ``default``."""
    return language if language in LANGUAGES else default


def text(language: str, key: str, **values: object) -> str:
    return _catalog(language)["prompts"][key].format(**values)


def audio_url(language: str, key: str) -> str | None:
    return _catalog(language).get("audio", {}).get(key)


def status_name(language: str, status: str) -> str:
    """A ticket status as a caller understands it."""
    return _catalog(language).get("statuses", {}).get(status, status.replace("_", " "))


def spoken_ticket_number(language: str, number: str) -> str:
    """``T20261127.0042`` as ``T, 2 0 2 6 1 1 2 7, dot, 0 0 4 2``: digit by digit."""
    day, _, counter = number[1:].partition(".")
    return f"T, {' '.join(day)}, {text(language, 'ticket_dot')}, {' '.join(counter)}"


def weekday(language: str, index: int) -> str:
    """Monday is 0, as in ``datetime.weekday()``."""
    return _catalog(language)["weekdays"]["names"][index]


def when(language: str, kind: str, **values: object) -> str:
    """A moment as said to a caller: ``today`` / ``tomorrow`` / ``weekday`` / ``soon``, with its time."""
    phrases = _catalog(language)["when"]
    if "hour" in values:
        clock = "time_full_hour" if values["minute"] == 0 else "time"
        values["time"] = phrases[clock].format(hour=values["hour"], minute=values["minute"])
    return phrases[kind].format(**values)


def text_template(language: str, key: str) -> str:
    """A prompt with its ``{placeholders}`` unfilled (for the generated script)."""
    return _catalog(language)["prompts"][key]


def spoken_when(language: str, moment: datetime | None) -> str:
    """ "today at 8:00", "tomorrow at 8:00", "on Monday at 8:00" — in the caller's language."""
    if moment is None:
        return when(language, "soon")
    today = clock.local().date()
    days_ahead = (moment.date() - today).days
    kind = {0: "today", 1: "tomorrow"}.get(days_ahead, "weekday")
    return when(language, kind, day=weekday(language, moment.weekday()), hour=moment.hour, minute=moment.minute)


def spoken_window(language: str, window: Window) -> str:
    """A callback window as said to a caller: "this afternoon", "tomorrow morning", "on Monday morning"."""
    days_ahead = (window.start.date() - clock.local().date()).days
    kind = {0: "this", 1: "tomorrow"}.get(days_ahead, "weekday")
    return _catalog(language)["windows"][f"{kind}_{window.part}"].format(day=weekday(language, window.start.weekday()))
