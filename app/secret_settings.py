"""The secrets the desk signs with, and its refusal to start without them (DESIGN §11).

``SECRET_KEY`` signs sessions, CSRF tokens, survey and callback-page links;
``TWILIO_AUTH_TOKEN`` is what provider webhooks are signed with. A value that is
unset, one of the well-known defaults or short lets anyone forge a manager's
session or a webhook, so outside loopback the desk refuses to start. On loopback
(a developer's `make run`) a missing secret is generated once into
``instance/dev-secrets.json`` and shared by every process of the run.
"""

import json
import os
import secrets
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: The settings that must be secret, in the order they are checked.
SECRET_NAMES = ("SECRET_KEY", "TWILIO_AUTH_TOKEN")
#: Shortest secret accepted outside loopback (a Twilio auth token is 32 hex digits).
MIN_SECRET_LENGTH = 32
#: Values that shipped as defaults or appear in examples: anyone may know them.
KNOWN_DEFAULTS = frozenset({"dev-only-secret-change-me", "emulator-auth-token", "changeme", "change-me", "secret"})
#: Hosts of a PUBLIC_BASE_URL that nobody but this machine reaches.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEV_SECRETS_FILE = "dev-secrets.json"
#: The password of every demo account `flask seed-demo` creates (docs/board.md): published, so loopback only.
DEMO_PASSWORD = "callback-desk"


class InsecureStart(RuntimeError):
    """The desk would be reachable with a secret anyone can guess: it does not start."""


def is_loopback(public_base_url: str) -> bool:
    """The desk answers on this machine only: a developer's run, not a deployment."""
    return urlsplit(public_base_url).hostname in LOOPBACK_HOSTS


def weakness(value: str) -> str | None:
    """What is wrong with a secret, or None when it will do."""
    if not value:
        return "is not set"
    if value in KNOWN_DEFAULTS:
        return "is a published default"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def settle(config: MutableMapping[str, Any]) -> None:
    """Refuse an insecure start outside loopback; on loopback, fill in missing secrets."""
    if is_loopback(config["PUBLIC_BASE_URL"]):
        missing = [name for name in SECRET_NAMES if not config.get(name)]
        if missing:
            generated = development_secrets(Path(config["INSTANCE_PATH"]))
            config.update({name: generated[name] for name in missing})
        return
    for name in SECRET_NAMES:
        problem = weakness(config.get(name) or "")
        if problem is not None:
            raise InsecureStart(
                f"{name} {problem}: the desk at {config['PUBLIC_BASE_URL']} does not start without a secret "
                f"of its own (python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; docs/security.md)"
            )


def development_secrets(instance: Path) -> dict[str, str]:
    """This machine's generated secrets (created on first use, readable by its owner only)."""
    path = instance / DEV_SECRETS_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    instance.mkdir(parents=True, exist_ok=True)
    values = {name: secrets.token_hex(32) for name in SECRET_NAMES}
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(values, file)
    try:
        # Two processes starting at once: the first file in place wins, both read it.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return json.loads(path.read_text())
