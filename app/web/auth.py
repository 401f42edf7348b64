"""Logging in and out, who may see what, and the CSRF check of the desk's own forms.

Pages answer 401 (with the login form) to someone not logged in and 403 to
someone whose role does not fit. Provider webhooks and the bearer-token API
are not cookie-authenticated, so CSRF is checked only on the blueprints that
serve forms (``protect_forms``), not app-wide.
"""

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from app.models import Role, User
from app.web import accounts, limits
from app.web.forms import LanguageForm, LoginForm
from app.web.limits import limiter

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Session cookies, the login manager and the CSRF extension."""
    app.config.update(
        SESSION_COOKIE_SECURE=app.config["PUBLIC_BASE_URL"].startswith("https://"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Checked per blueprint (protect_forms): webhooks and the API carry no session cookie.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session's user while the account is active and the session not revoked (User.get_id)."""
    return accounts.user_for_session(session_id)


def protect_forms(blueprint: Blueprint) -> None:
    """Refuse a state-changing request without the session's CSRF token (form field or X-CSRFToken)."""

    @blueprint.before_request
    def check_csrf() -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()


def home_for(user: User) -> str:
    return url_for("console.page") if user.role == Role.TECHNICIAN else url_for("board.page")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: an open redirect would make the login page a phishing tool."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def login_required_page(status: int = 401) -> Response:
    """The login form, answered with 401; htmx requests are sent to the login page instead."""
    if request.headers.get("HX-Request"):
        response = Response(status=status)
        response.headers["HX-Redirect"] = url_for(
            "auth.login", next=request.referrer and urlsplit(request.referrer).path
        )
        return response
    form = LoginForm(next=request.full_path.rstrip("?"))
    return Response(render_template("login.html", form=form), status=status)


def role_required(*roles: Role) -> Callable:
    """Let only a logged-in user with one of ``roles`` in: 401 otherwise, 403 for the wrong role."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_required_page()
            if current_user.role not in roles:
                return Response(render_template("forbidden.html"), status=403)
            return view(*args, **kwargs)

        return guarded

    return decorate


protect_forms(bp)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    limits.login_per_user,
    key_func=limits.login_username,
    methods=["POST"],
    deduct_when=limits.failed,
    on_breach=limits.too_many,
    scope="login-user",
)
@limiter.limit(
    limits.login_per_address, methods=["POST"], deduct_when=limits.failed, on_breach=limits.too_many, scope="login"
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(form.next.data) or home_for(user))
        form.password.errors.append(_("Wrong user name or password."))
    elif request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 401 if form.password.errors else 200
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """The signed-in person chooses the language of their pages; it is kept on their account."""
    if not current_user.is_authenticated:
        return login_required_page()
    form = LanguageForm()
    if form.validate():
        accounts.set_language(current_user, form.language.data)
    back = request.referrer and urlsplit(request.referrer).path
    return redirect(_safe_next(back) or home_for(current_user))


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))
