"""Events > Reports: exports of the current filter, streamed or run in the background.

`POST /reports/export` with `format=csv|jsonl`, optional `excel=1` and the Logs filter fields.
An export records an audit event and may start a task, so it is a POST with a CSRF token (an
ordinary form in the browser, a bearer token for scripts), never a GET another site could
trigger. Up to the stream limit the answer is the file itself, streamed; above it, a redirect
to the Reports page where the background export shows its progress.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_htmx.responses import HTMXResponseStopPolling
from flask_login import current_user

from webapp.core.db_types import utcnow
from webapp.core.extensions import htmx
from webapp.core.lookups import get_or_404
from webapp.events.errors import BadQuery
from webapp.events.filters import parse_filters
from webapp.models import DataExport, ExportFormat, ExportStatus
from webapp.reports.export import MEDIA_TYPES, parse_format, wants_excel
from webapp.reports.export_jobs import (
    delete_export,
    download_name,
    export_page,
    export_settings,
    file_path,
    human_size,
    refresh_status,
    request_export,
    stream_export,
    task_of,
)
from webapp.reports.filter_text import describe_filter
from webapp.views.directory.common import page_arg, per_page

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.context_processor
def _row_helpers() -> dict:
    return {"human_size": human_size, "task_of": task_of}


@bp.get("/")
def index():
    """The exports, and a new export of the filter in the URL (Logs links here with it)."""
    limit, _retention = export_settings()
    parsed = parse_filters(request.args)
    return render_template("reports/index.html", exports=export_page(page_arg(), per_page()),
                           stream_limit=limit, filter_args=_filter_args(),
                           parsed=parsed, filter_text=describe_filter(parsed.filter, utcnow()))


@bp.post("/export")
def export():
    parsed = parse_filters(request.form)
    errors = dict(parsed.errors)
    try:
        fmt = parse_format(request.form.get("format", ""))
    except BadQuery as exc:
        errors["format"] = str(exc)
    if errors:
        return render_template("reports/invalid.html", errors=errors), 400
    export = request_export(parsed.filter, fmt, excel=wants_excel(request.form.get("excel", "")),
                            user=current_user._get_current_object())
    if export.background:
        flash(f"More than {export_settings()[0]:,} events: the export runs in the background "
              "and is listed here when it is ready.", "info")
        return redirect(url_for("reports.index", _anchor=f"export-{export.id}"), 303)
    return Response(stream_with_context(stream_export(export.id)),
                    mimetype=MEDIA_TYPES[ExportFormat(export.format)],
                    headers=_download_headers(export))


@bp.get("/<int:export_id>/row")
def row(export_id: int):
    """One export's row; polled while it runs, until the server answers 286 (stop)."""
    export = refresh_status(get_or_404(DataExport, export_id))
    page = render_template("reports/_export_row.html", export=export)
    return page if export.status == ExportStatus.RUNNING else HTMXResponseStopPolling(page)


@bp.get("/<int:export_id>/download")
def download(export_id: int):
    export = get_or_404(DataExport, export_id)
    path = file_path(export)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=MEDIA_TYPES[ExportFormat(export.format)],
                         as_attachment=True, download_name=download_name(export))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:export_id>/delete")
def delete(export_id: int):
    delete_export(get_or_404(DataExport, export_id))
    if htmx:
        return ""  # the row swaps itself out
    flash("Export deleted.", "success")
    return redirect(url_for("reports.index"))


def _filter_args() -> dict[str, list[str]]:
    """The URL's filter, kept by the page links of the exports list."""
    return {key: request.args.getlist(key) for key in request.args if key != "page"}


def _download_headers(export: DataExport) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{download_name(export)}"',
            "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
