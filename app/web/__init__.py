"""What people see in a browser: accounts, the board, the reports, the console, the admin pages,
the JSON API, the phone lab, the caller's callback page, the survey pages and the monitoring endpoints."""

from flask import Flask


def register(app: Flask) -> None:
    """Attach every page, the error answers and the login machinery to the app."""
    from app.web import (
        admin,
        api,
        auth,
        board,
        caller,
        console,
        errors,
        filters,
        headers,
        i18n,
        lab,
        limits,
        monitoring,
        reports,
        survey,
    )

    i18n.init_app(app)
    headers.init_app(app)
    limits.init_app(app)
    errors.register(app)
    filters.register(app)
    auth.init_app(app)
    for blueprint in (board.bp, reports.bp, admin.bp, caller.bp, console.bp, api.bp, lab.bp, monitoring.bp, survey.bp):
        app.register_blueprint(blueprint)
