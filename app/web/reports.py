"""The managers' reports (``/reports``): the desk over a date range, with charts and CSV exports.

The range comes from a preset (today, this week, last week, this month, last month, this
quarter) or two dates; anything not understood falls back to this month and says so. Every
table is exported as CSV, plain (comma, UTF-8) or for a spreadsheet (``?excel=1``: UTF-8 with a
byte-order mark and semicolons, as Excel opens it in Belgium).
"""

import csv
import io
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l

from app.clock import local
from app.models import Role
from app.web.auth import role_required
from app.web.charts import heat_map_chart, period_chart
from app.web.filters import spreadsheet_safe
from app.web.report_figures import SPLITS, TABLES, Period, median_times, queue_length

bp = Blueprint("reports", __name__, url_prefix="/reports")
manager_only = role_required(Role.MANAGER)

#: The longest range a report covers (two years), so a typo in a year cannot scan the whole history.
MAX_DAYS = 731
PRESETS = {
    "today": _l("Today"),
    "this_week": _l("This week"),
    "last_week": _l("Last week"),
    "this_month": _l("This month"),
    "last_month": _l("Last month"),
    "this_quarter": _l("This quarter"),
}


def preset_range(name: str, today: date) -> tuple[date, date]:
    """The first and last desk day of a preset, relative to ``today``."""
    monday = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    if name == "today":
        return today, today
    if name == "this_week":
        return monday, today
    if name == "last_week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if name == "last_month":
        last = month - timedelta(days=1)
        return last.replace(day=1), last
    if name == "this_quarter":
        return month.replace(month=(today.month - 1) // 3 * 3 + 1), today
    return month, today


def chosen_period(args) -> tuple[Period, str, str | None]:
    """The period asked for, the preset it is (or ""), and a warning when the request was not understood."""
    today = local().date()
    by = args.get("by", "day")
    warning = None
    if by not in SPLITS:
        by, warning = "day", _l("Showing this month per day: the request was not understood.")
    if "from" in args or "to" in args:
        try:
            first, last = date.fromisoformat(args.get("from", "")), date.fromisoformat(args.get("to", ""))
        except ValueError:
            first = last = None
        if first is not None and first > last:
            first, last = last, first
        if first is not None and (last - first).days < MAX_DAYS:
            return Period(first, last, by), "", warning
        first, last = preset_range("this_month", today)
        return Period(first, last, by), "this_month", _l("Showing this month: give two dates, at most two years apart.")
    preset = args.get("preset", "this_month")
    if preset not in PRESETS:
        preset, warning = "this_month", _l("Showing this month per day: the request was not understood.")
    first, last = preset_range(preset, today)
    return Period(first, last, by), preset, warning


@bp.get("")
@manager_only
def page():
    period, preset, warning = chosen_period(request.args)
    tables = [build(period) for build in TABLES.values()]
    heat = next(table for table in tables if table.key == "heatmap")
    return render_template(
        "reports/page.html",
        period=period,
        preset=preset,
        presets=PRESETS,
        warning=warning,
        tables=[table for table in tables if table.key != "heatmap"],
        heat=heat,
        queue_chart=period_chart(queue_length(period)),
        time_chart=period_chart(median_times(period)),
        heat_chart=heat_map_chart(heat.rows),
    )


@bp.get("/<name>.csv")
@manager_only
def export(name: str):
    """One table of the report as CSV, its total rows last."""
    if name not in TABLES:
        abort(404)
    period, _, _ = chosen_period(request.args)
    table = TABLES[name](period)
    excel = request.args.get("excel") == "1"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel else ",")
    writer.writerow(table.columns)
    for row in [*table.rows, *table.totals]:
        writer.writerow([spreadsheet_safe(value) if isinstance(value, str) else _cell(value, excel) for value in row])
    body = ("\ufeff" if excel else "") + out.getvalue()
    filename = f"{name}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value, excel: bool) -> str:
    """A number as written in the file: a decimal comma for a Belgian spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace(".", ",") if excel and isinstance(value, float) else str(value)
