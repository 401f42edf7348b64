"""Admin pages for companies: list with search, add, edit, deactivate."""

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.directory import InvalidRecord
from app.directory.companies import save_company
from app.directory.contacts import parse_numbers
from app.extensions import db
from app.models import Company, Contract
from app.web.admin import bp
from app.web.admin.listing import like, listing, search_text
from app.web.i18n import said


@bp.get("/companies")
def companies():
    query = select(Company).order_by(Company.name, Company.id)
    if search := search_text():
        query = query.where(func.lower(Company.name).like(like(search), escape="\\"))
    return render_template("admin/companies.html", listing=listing(query))


@bp.route("/companies/new", methods=["GET", "POST"])
def new_company():
    return _edit(None)


@bp.route("/companies/<int:company_id>", methods=["GET", "POST"])
def company(company_id: int):
    return _edit(db.session.get(Company, company_id) or abort(404))


@bp.post("/companies/<int:company_id>/active")
def company_active(company_id: int):
    """Deactivate (or reactivate) a company: its contacts become unknown callers, its tickets stay."""
    company = db.session.get(Company, company_id) or abort(404)
    company.active = request.form.get("active") == "1"
    db.session.commit()
    flash(
        _("%(name)s is active.", name=company.name)
        if company.active
        else _("%(name)s is deactivated.", name=company.name)
    )
    return redirect(request.referrer or url_for("admin.companies"))


def _edit(company: Company | None):
    error = None
    if request.method == "POST":
        form = request.form
        try:
            company = save_company(
                company,
                name=form.get("name", ""),
                contract=form.get("contract", Contract.NONE),
                numbers=parse_numbers(form.get("numbers")),
                contract_starts=_date(form.get("contract_starts")),
                contract_ends=_date(form.get("contract_ends")),
                active=form.get("active", "1") == "1",
            )
        except InvalidRecord as refused:
            db.session.rollback()
            error = said(refused)
        else:
            db.session.commit()
            flash(_("%(name)s is saved.", name=company.name))
            return redirect(url_for("admin.companies", q=company.name))
    page = render_template(
        "admin/company.html", company=company, form=request.form, error=error, contracts=list(Contract)
    )
    return page, 400 if error else 200


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRecord("%(text)r is not a date (YYYY-MM-DD)", text=text) from None
