"""Admin pages for technicians: list with search, add, edit, deactivate."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.directory import InvalidRecord
from app.extensions import db
from app.models import Technician
from app.web.admin import bp
from app.web.admin.listing import like, listing, search_text
from app.web.i18n import said
from callbacks import manage, roster


@bp.get("/technicians")
def technicians():
    query = select(Technician).order_by(Technician.active.desc(), Technician.name, Technician.id)
    if search := search_text():
        digits = "".join(ch for ch in search if ch.isdigit()).lstrip("0")
        matches = [func.lower(Technician.name).like(like(search), escape="\\")]
        if len(digits) >= 4:
            matches.append(Technician.phone.like(f"%{digits}%"))
        query = query.where(or_(*matches))
    return render_template("admin/technicians.html", listing=listing(query))


@bp.route("/technicians/new", methods=["GET", "POST"])
def new_technician():
    return _edit(None)


@bp.route("/technicians/<int:technician_id>", methods=["GET", "POST"])
def technician(technician_id: int):
    return _edit(db.session.get(Technician, technician_id) or abort(404))


@bp.post("/technicians/<int:technician_id>/active")
def technician_active(technician_id: int):
    """Deactivate (offline, never offered a callback again) or reactivate a technician."""
    try:
        technician = roster.set_active(technician_id, request.form.get("active") == "1")
    except manage.NotFound:
        abort(404)
    except manage.Refused as refused:
        flash(said(refused))
    else:
        name = technician.name
        flash(_("%(name)s is active.", name=name) if technician.active else _("%(name)s is deactivated.", name=name))
    return redirect(request.referrer or url_for("admin.technicians"))


def _edit(technician: Technician | None):
    error = None
    if request.method == "POST":
        try:
            technician = roster.save_technician(
                technician,
                name=request.form.get("name", ""),
                number=request.form.get("phone", ""),
                languages=request.form.getlist("languages"),
            )
        except InvalidRecord as refused:
            db.session.rollback()
            error = said(refused)
        else:
            flash(_("%(name)s is saved.", name=technician.name))
            return redirect(url_for("admin.technicians", q=technician.name))
    page = render_template(
        "admin/technician.html", technician=technician, form=request.form, error=error, languages=roster.LANGUAGES
    )
    return page, 400 if error else 200
