"""Admin pages for contacts: list with search (name, company or number), add, edit, deactivate."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.directory import InvalidRecord
from app.directory.companies import company_named
from app.directory.contacts import LANGUAGES, parse_numbers, save_contact
from app.extensions import db
from app.models import Company, Contact, ContactPhone
from app.web.admin import bp
from app.web.admin.listing import like, listing, search_text
from app.web.i18n import said


@bp.get("/contacts")
def contacts():
    query = (
        select(Contact)
        .outerjoin(Company, Company.id == Contact.company_id)
        .options(selectinload(Contact.company), selectinload(Contact.phones))
        .order_by(Contact.name, Contact.id)
    )
    if search := search_text():
        digits = "".join(ch for ch in search if ch.isdigit()).lstrip("0")
        matches = [
            func.lower(Contact.name).like(like(search), escape="\\"),
            func.lower(Company.name).like(like(search), escape="\\"),
        ]
        if len(digits) >= 4:
            numbers = select(ContactPhone.contact_id).where(ContactPhone.e164.like(f"%{digits}%"))
            matches.append(Contact.id.in_(numbers))
        query = query.where(or_(*matches))
    return render_template("admin/contacts.html", listing=listing(query))


@bp.route("/contacts/new", methods=["GET", "POST"])
def new_contact():
    return _edit(None)


@bp.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
def contact(contact_id: int):
    return _edit(db.session.get(Contact, contact_id) or abort(404))


@bp.post("/contacts/<int:contact_id>/active")
def contact_active(contact_id: int):
    """Deactivate (or reactivate) a contact: a deactivated one is an unknown caller, their tickets stay."""
    contact = db.session.get(Contact, contact_id) or abort(404)
    contact.active = request.form.get("active") == "1"
    db.session.commit()
    flash(
        _("%(name)s is active.", name=contact.name)
        if contact.active
        else _("%(name)s is deactivated.", name=contact.name)
    )
    return redirect(request.referrer or url_for("admin.contacts"))


def _edit(contact: Contact | None):
    error = None
    if request.method == "POST":
        form = request.form
        try:
            company_name = form.get("company", "").strip()
            company = company_named(company_name) if company_name else None
            if company_name and company is None:
                raise InvalidRecord("there is no company named %(name)r: add it first", name=company_name)
            contact = save_contact(
                contact,
                name=form.get("name", ""),
                company=company,
                numbers=parse_numbers(form.get("numbers")),
                email=form.get("email"),
                language=form.get("language"),
                active=form.get("active", "1") == "1",
            )
        except InvalidRecord as refused:
            db.session.rollback()
            error = said(refused)
        else:
            db.session.commit()
            flash(_("%(name)s is saved.", name=contact.name))
            return redirect(url_for("admin.contacts", q=contact.name))
    companies = db.session.scalars(select(Company.name).where(Company.active).order_by(Company.name).limit(2000)).all()
    page = render_template(
        "admin/contact.html", contact=contact, form=request.form, error=error, languages=LANGUAGES, companies=companies
    )
    return page, 400 if error else 200
