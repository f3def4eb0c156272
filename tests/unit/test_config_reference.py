"""docs/configuration.md is generated from webapp.core.config.SETTINGS: it must be current,
and every key the code reads must be declared there (or it would be missing from the docs)."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.config_reference import REFERENCE, render
from webapp.core.config import DEFAULTS, SETTINGS
from webapp.events.geoip import ASN, CITY

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
#: `config["KEY"]`, `config.get("KEY"` on any mapping named config (app.config, current_app's).
CONFIG_READ = re.compile(r"""config(?:\[\s*|\.get\(\s*)["']([A-Z][A-Z0-9_]*)["']""")


def keys_read_by_the_code() -> set[str]:
    keys = {kind.config_key for kind in (CITY, ASN)}  # read through geoip.Kind, by name
    for source in WEBAPP.rglob("*.py"):
        keys.update(CONFIG_READ.findall(source.read_text(encoding="utf-8")))
    return keys


def test_the_reference_in_docs_is_current():
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `make docs`")


def test_every_key_the_code_reads_is_a_declared_setting():
    keys = keys_read_by_the_code()
    assert "MAIL_HOST" in keys and "PAGE_SIZE" in keys  # the scan itself finds reads
    assert keys - DEFAULTS.keys() == set(), "add these to SETTINGS in webapp/core/config.py"


def test_every_setting_has_one_line_of_help_and_a_unique_name():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.help.strip() and "\n" not in setting.help, setting.name
