"""Admin pages for user accounts: the list (role, linked technician, active), adding one, and
one account's page where a manager disables or enables it and sets a new password.

Every change goes through app/web/accounts, which ends the user's sessions (and, on disabling,
revokes the API token) exactly as ``flask users disable`` and ``flask users passwd`` do.
"""

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Role, Technician, User
from app.web import accounts
from app.web.admin import bp
from app.web.admin.listing import like, listing, search_text
from app.web.i18n import said

log = logging.getLogger(__name__)


@bp.get("/users")
def users():
    query = select(User).options(selectinload(User.technician)).order_by(User.username)
    if search := search_text():
        query = query.where(func.lower(User.username).like(like(search), escape="\\"))
    return render_template("admin/users.html", listing=listing(query))


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    """A manager's account, or a technician's linked to their technician record."""
    error = None
    free = db.session.scalars(
        select(Technician)
        .where(
            Technician.active, Technician.id.not_in(select(User.technician_id).where(User.technician_id.is_not(None)))
        )
        .order_by(Technician.name)
    ).all()
    if request.method == "POST":
        form = request.form
        technician_id = form.get("technician", type=int)
        technician = db.session.get(Technician, technician_id) if technician_id else None
        try:
            user = accounts.add_user(
                form.get("username", ""), form.get("password", ""), form.get("role", ""), technician
            )
        except ValueError as refused:
            db.session.rollback()
            error = said(refused)
        else:
            flash(_("%(name)s is saved.", name=user.username))
            return redirect(url_for("admin.users", q=user.username))
    page = render_template("admin/user.html", form=request.form, error=error, roles=list(Role), technicians=free)
    return page, 400 if error else 200


def _account(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _account_page(user: User, error: str | None = None, status: int = 200):
    page = render_template(
        "admin/account.html",
        account=user,
        error=error,
        own=user.id == current_user.id,
        min_password_length=accounts.MIN_PASSWORD_LENGTH,
    )
    return page, status


@bp.get("/users/<int:user_id>")
def account(user_id: int):
    """One account: its state, disabling or enabling it, a new password."""
    return _account_page(_account(user_id))


@bp.post("/users/<int:user_id>/active")
def account_active(user_id: int):
    """Disable (confirmed; never one's own account) or enable an account."""
    user = _account(user_id)
    if request.form.get("active") == "1":
        accounts.enable(user)
        log.info("user %s enabled by %s", user.username, current_user.username)
        flash(_("%(name)s can log in again; an API token must be made anew.", name=user.username))
        return redirect(url_for("admin.account", user_id=user.id))
    if user.id == current_user.id:
        return _account_page(user, _("You cannot disable your own account."), 400)
    if request.form.get("confirm") != "1":
        return _account_page(user, _("Tick the box to confirm disabling %(name)s.", name=user.username), 400)
    accounts.disable(user)
    log.info("user %s disabled by %s: sessions and API token revoked", user.username, current_user.username)
    flash(_("%(name)s is disabled: their sessions and API token stopped.", name=user.username))
    return redirect(url_for("admin.account", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
def account_password(user_id: int):
    """A new password (typed twice); every session of the user ends."""
    user = _account(user_id)
    password = request.form.get("password", "")
    if password != request.form.get("repeat", ""):
        return _account_page(user, _("The two passwords differ."), 400)
    try:
        accounts.set_password(user, password)
    except ValueError as refused:
        db.session.rollback()
        return _account_page(user, str(refused), 400)
    own = user.id == current_user.id
    if own:
        login_user(user)  # this browser stays signed in; the account's other sessions end
    log.info("user %s: new password set by %s, sessions ended", user.username, current_user.username)
    if own:
        flash(_("Your new password is set; your other sessions ended."))
    else:
        flash(_("%(name)s has a new password; their sessions ended.", name=user.username))
    return redirect(url_for("admin.account", user_id=user.id))
