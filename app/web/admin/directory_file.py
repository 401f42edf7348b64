"""Admin page for the directory file: upload a CSV (with a dry run) and download the export."""

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.directory import InvalidRecord, csv_file
from app.web.admin import bp
from app.web.i18n import said

#: Largest directory file the page accepts (a 2,000-contact file is about 150 kB).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: What became of a line of the file, as the report names it.
OUTCOMES = {
    csv_file.ADDED: _l("added"),
    csv_file.UPDATED: _l("updated"),
    csv_file.UNCHANGED: _l("unchanged"),
    csv_file.REFUSED: _l("refused"),
}


@bp.route("/directory-file", methods=["GET", "POST"])
def directory_file():
    """The upload form; a POST imports the file (or tries it, for a dry run) and shows the report per line."""
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read(MAX_UPLOAD_BYTES + 1) if upload else b""
        if not data:
            error = _("Choose a CSV file to import.")
        elif len(data) > MAX_UPLOAD_BYTES:
            error = _("The file is larger than 5 MB.")
        else:
            try:
                report = csv_file.import_text(data.decode("utf-8-sig"), dry_run=request.form.get("dry_run") == "1")
            except UnicodeDecodeError:
                error = _("The file is not UTF-8 text; save it as CSV UTF-8.")
            except InvalidRecord as refused:
                error = said(refused)
    page = render_template(
        "admin/directory_file.html",
        outcomes=OUTCOMES,
        report=report,
        error=error,
        dry_run=request.form.get("dry_run") == "1",
    )
    return page, 400 if error else 200


@bp.get("/directory-file/export.csv")
def directory_export():
    return Response(
        csv_file.export_text(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=directory.csv"},
    )
