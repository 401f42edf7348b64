"""Admin pages for user accounts: the list (role, linked technician), and adding one."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Role, Technician, User
from app.web import accounts
from app.web.admin import bp
from app.web.admin.listing import like, listing, search_text
from app.web.i18n import said


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
