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


def test_passwords_are_hashed_at_werkzeugs_full_scrypt_cost_unless_configured(monkeypatch,
                                                                                tmp_path):
    """The suite hashes cheaply (config_for_tests); a real install must not."""
    from webapp.models import User

    monkeypatch.setenv("HERALD_SECRET_KEY", "k")
    monkeypatch.setenv("HERALD_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.delenv("HERALD_PASSWORD_HASH", raising=False)
    user = User(username="u")
    with create_app().app_context():
        user.set_password("a-long-password")
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    monkeypatch.setenv("HERALD_PASSWORD_HASH", '"scrypt:65536:8:1"')
    with create_app().app_context():
        user.set_password("a-long-password")
        assert user.check_password("a-long-password")
    assert user.password_hash.startswith("scrypt:65536:8:1$")
