"""What the desk writes to customers (SMS, mail), one TOML catalog per language beside this file.

Spoken prompts are the IVR's own catalog (ivr/catalog.py); both speak the same languages.
"""

import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path

from flask import current_app

#: The languages the desk speaks and writes, the default first only by configuration (DEFAULT_LANGUAGE).
LANGUAGES = ("nl", "fr", "en")


@cache
def _file(language: str) -> dict:
    with (Path(__file__).resolve().parent / f"{language}.toml").open("rb") as source:
        return tomllib.load(source)


def _catalog(language: str) -> dict:
    return _file(language)["messages"]


def supported(language: str | None) -> str:
    """``language`` if the desk speaks it, else the desk's default."""
    return language if language in LANGUAGES else current_app.config["DEFAULT_LANGUAGE"]


def text(language: str, key: str, **values: object) -> str:
    """A message in ``language`` (or the desk's default when it is not one of the desk's languages)."""
    return _catalog(supported(language))[key].format(**values)


def window(language: str, start: datetime, end: datetime) -> str:
    """A callback window in writing, desk time: "on Monday 7/12 between 8:00 and 12:00"."""
    language = supported(language)
    day = _file(language)["weekdays"]["names"][start.weekday()]
    return text(
        language,
        "window",
        day=day,
        date=f"{start.day}/{start.month}",
        start=f"{start.hour}:{start.minute:02d}",
        end=f"{end.hour}:{end.minute:02d}",
    )
