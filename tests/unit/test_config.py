"""Configuration from HERALD_* variables."""

from __future__ import annotations

import pytest

from webapp import create_app
from webapp.core.config import ConfigurationError


def test_herald_refuses_to_start_without_a_secret_key_outside_tests(monkeypatch, tmp_path):
    monkeypatch.delenv("HERALD_SECRET_KEY", raising=False)
    monkeypatch.setenv("HERALD_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/x.sqlite3")
    with pytest.raises(ConfigurationError, match="HERALD_SECRET_KEY is not set"):
        create_app()


def test_prefixed_environment_variables_are_read_and_json_decoded(monkeypatch, tmp_path):
    monkeypatch.setenv("HERALD_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("HERALD_TRUSTED_PROXIES", "2")
    monkeypatch.setenv("HERALD_SQLALCHEMY_DATABASE_URI", "postgresql://herald@db.internal/herald")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["TRUSTED_PROXIES"] == 2
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://herald@db.internal/herald"
