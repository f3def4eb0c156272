"""Exports in the real browser: the downloaded CSV is exactly the filtered events, a formula
cell is escaped, and a background export shows its progress on Reports, then downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.conftest import ADMIN_PASSWORD
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Event
from webapp.system.system_settings import get_settings

MALLORY = {"pk": 66, "username": "mallory", "email": "mallory@example.com"}


@pytest.fixture
def seeded(app: Flask, tmp_path: Path) -> None:
    app.config["EXPORT_FOLDER"] = str(tmp_path / "exports")
    with app.app_context():
        for n in range(6):
            record("login_failed", {"username": "mallory", "message": f"attempt {n}"},
                   user=MALLORY, client_ip="203.0.113.66", app="tests",
                   created=utcnow() - timedelta(minutes=n + 1))
        record("login_failed", {"message": '=HYPERLINK("http://evil.example","click")'},
               user=MALLORY, client_ip="203.0.113.66", app="tests",
               created=utcnow() - timedelta(seconds=30))
        record("login", {"message": "someone else"}, user={"pk": 1, "username": "carol"},
               client_ip="198.51.100.1", app="tests")
        db.session.commit()


def filtered_pks(app: Flask) -> list[str]:
    with app.app_context():
        return [str(pk) for pk in db.session.scalars(
            sa.select(Event.event_uuid).where(Event.action == "login_failed",
                                              Event.username == "mallory")
            .order_by(Event.created.desc(), Event.event_uuid.desc()))]


def read_download(download) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))


def test_the_downloaded_csv_holds_exactly_the_filtered_events(page: Page, app, admin, seeded):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/reports/?action=login_failed&username=mallory")
    expect(page.locator("#export-filter")).to_have_text("action login_failed · username mallory")

    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").click()
    download = info.value

    assert re.fullmatch(r"herald-events-\d{8}-\d{6}\.csv", download.suggested_filename)
    rows = read_download(download)
    assert [row["pk"] for row in rows] == filtered_pks(app)
    assert len(rows) == 7
    assert rows[0]["message"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert {row["username"] for row in rows} == {"mallory"}


def test_a_background_export_shows_progress_then_downloads(page: Page, app, admin, seeded):
    with app.app_context():
        get_settings().export_stream_limit = 2
        db.session.commit()
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/reports/?action=login_failed&username=mallory")
    page.get_by_label("CSV for Excel").check()
    page.get_by_role("button", name="Export CSV").click()

    expect(page).to_have_url(re.compile(r"/reports/#export-\d+$"))
    expect(page.get_by_role("alert")).to_contain_text("runs in the background")
    row = page.locator("tr.herald-export-row").first
    expect(row).to_contain_text("action login_failed · username mallory")
    expect(row.get_by_role("status")).to_contain_text("ready")  # polled until done
    expect(row).to_contain_text("7")
    screenshot(page, "reports")

    with page.expect_download() as info:
        row.get_by_role("link", name=re.compile(r"Download export \d+")).click()
    download = info.value
    assert download.suggested_filename.endswith("-excel.csv")
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["pk"] for r in rows] == filtered_pks(app)

    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile(r"Delete export \d+")).click()
    expect(page.locator("tr.herald-export-row")).to_have_count(0)


def test_a_running_export_polls_its_progress(page: Page, app, admin, seeded):
    """Progress while it runs: a task row part-way through, then finished by the server."""
    from webapp.models import BackgroundTask, DataExport

    with app.app_context():
        task = BackgroundTask(kind="data_export", status="running", done=40, total=100)
        db.session.add(task)
        db.session.flush()
        export = DataExport(format="csv", filter_args=[], filter_text="all events",
                            status="running", requested_by="admin", task_id=task.id,
                            background=True, expires=utcnow() + timedelta(days=7))
        db.session.add(export)
        db.session.commit()
        task_id, export_id = task.id, export.id
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/reports/")
    bar = page.get_by_role("progressbar", name=f"Progress of export {export_id}")
    expect(bar).to_have_attribute("aria-valuenow", "40")
    expect(page.locator(f"#export-{export_id}")).to_contain_text("Exporting… 40 of 100")

    with app.app_context():
        db.session.get(BackgroundTask, task_id).done = 80
        db.session.commit()
    expect(bar).to_have_attribute("aria-valuenow", "80")
