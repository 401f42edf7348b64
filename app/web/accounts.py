"""User accounts: passwords, API tokens, and the ``flask users`` commands.

Passwords are stored as werkzeug hashes. An API token is a random string shown
once; only its SHA-256 is stored, so a leaked database does not leak tokens, and
a lookup by hash is a plain indexed equality.
"""

import functools
import hashlib
import re
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.messages import LANGUAGES
from app.models import Role, Technician, User
from app.secret_settings import DEMO_PASSWORD
from app.wording import Invalid

MIN_PASSWORD_LENGTH = 8
USERNAME = re.compile(r"[a-z0-9._-]{1,80}")


def add_user(
    username: str, password: str, role: str, technician: Technician | None = None, language: str | None = None
) -> User:
    """Create an account; a technician account must name its technician, a manager's must not."""
    role = Role(role)
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise Invalid("a user name is 1 to 80 letters, digits, dots, dashes or underscores")
    if (role is Role.TECHNICIAN) != (technician is not None):
        raise Invalid("a technician account needs a technician; a manager account has none")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("the password needs at least %(min)s characters", min=MIN_PASSWORD_LENGTH)
    if find_user(username) is not None:
        raise Invalid("user %(name)r already exists", name=username)
    _check_language(language)
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        technician_id=technician.id if technician else None,
        language=language or None,
    )
    db.session.add(user)
    db.session.commit()
    return user


def _check_language(language: str | None) -> None:
    if language and language not in LANGUAGES:
        raise Invalid("the language is one of %(languages)s", languages=", ".join(LANGUAGES))


def set_language(user: User, language: str | None) -> None:
    """The language of the person's pages; None or empty: their browser's."""
    _check_language(language)
    user.language = language or None
    db.session.commit()


def find_user(username: str) -> User | None:
    return db.session.scalars(select(User).where(User.username == username.strip().lower())).first()


@functools.cache
def _stand_in_hash() -> str:
    """A hash to check an unknown name's password against, so it takes as long as a known one's."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(username: str, password: str) -> User | None:
    """The active user with this name and password, or None.

    The same answer, in the same time, for an unknown name, a wrong password or a disabled
    account: the password hash is checked in every case, so timing tells no names apart.
    """
    user = find_user(username)
    matches = check_password_hash(user.password_hash if user else _stand_in_hash(), password)
    if user is None or not matches or not user.active:
        return None
    return user


def user_for_session(session_id: str) -> User | None:
    """The user a session cookie names (``id:version``), unless disabled or revoked since."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def set_password(user: User, password: str) -> None:
    """A new password; every session of the user ends (they log in again with it)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    db.session.commit()


def disable(user: User) -> None:
    """No more logins; every session and the API token stop working at once."""
    user.active = False
    user.token_hash = None
    user.session_version += 1
    db.session.commit()


def enable(user: User) -> None:
    """Logins work again (a new API token must be made: the old one is gone)."""
    user.active = True
    db.session.commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(user: User) -> str:
    """Give the user a fresh API token (the previous one stops working) and return it."""
    token = secrets.token_urlsafe(32)
    user.token_hash = _token_hash(token)
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    if not token:
        return None
    return db.session.scalars(select(User).where(User.token_hash == _token_hash(token), User.active.is_(True))).first()


def seed_demo_accounts() -> list[str]:
    """A manager and one account per technician, all with the demo password; returns the names added."""
    added = []
    if find_user("manager") is None:
        add_user("manager", DEMO_PASSWORD, Role.MANAGER)
        added.append("manager")
    linked = set(db.session.scalars(select(User.technician_id).where(User.technician_id.is_not(None))))
    for technician in db.session.scalars(select(Technician).order_by(Technician.id)):
        username = technician.name.split()[0].lower()
        if technician.id in linked or find_user(username) is not None:
            continue
        add_user(username, DEMO_PASSWORD, Role.TECHNICIAN, technician)
        added.append(username)
    return added
