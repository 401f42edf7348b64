"""The managers' admin pages: companies, contacts and the directory file, technicians, user accounts.

Built with the desk's own templates (the look, the roles, CSRF and the page language come
with them); every check lives in the core (app/directory, app/web/accounts), so a form, an
import and the CLI refuse the same things with the same words.
"""

from flask import Blueprint

from app.models import Role
from app.web.auth import protect_forms, role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
protect_forms(bp)


@bp.before_request
@role_required(Role.MANAGER)
def managers_only() -> None:
    """Every admin page is for managers only."""


from app.web.admin import companies, contacts, directory_file, technicians, users  # noqa: E402,F401  (their routes)
