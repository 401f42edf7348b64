"""What the desk writes to customers (SMS, mail), one TOML catalog per language beside this file.

Spoken prompts are the IVR's own catalog (ivr/catalog.py); both speak the same languages.
"""

import tomllib
from functools import cache
from pathlib import Path

from flask import current_app

#: The languages the desk speaks and writes, the default first only by configuration (DEFAULT_LANGUAGE).
LANGUAGES = ("nl", "fr", "en")


@cache
def _catalog(language: str) -> dict:
    with (Path(__file__).resolve().parent / f"{language}.toml").open("rb") as source:
        return tomllib.load(source)["messages"]


def supported(language: str | None) -> str:
    """``language`` if the desk speaks it, else the desk's default."""
    return language if language in LANGUAGES else current_app.config["DEFAULT_LANGUAGE"]


def text(language: str, key: str, **values: object) -> str:
    """A message in ``language`` (or the desk's default when it is not one of the desk's languages)."""
    return _catalog(supported(language))[key].format(**values)
