"""Screenshots the browser specs leave for people to look at (git-ignored, kept by CI).

HERALD_SCREENSHOTS moves them (CI gives its SQLite and PostgreSQL passes a folder each)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

ARTIFACTS = Path(os.environ.get("HERALD_SCREENSHOTS") or
                 Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
