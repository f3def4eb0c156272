"""API fixtures: bearer keys for a superuser and a regular user."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.factories import make_token
from webapp.core.extensions import db
from webapp.models import User


def _key_for(app: Flask, user_id: int) -> str:
    with app.app_context():
        return make_token(db.session.get_one(User, user_id))[1]


@pytest.fixture
def admin_key(app: Flask, admin: int) -> str:
    return _key_for(app, admin)


@pytest.fixture
def user_key(app: Flask, regular_user: int) -> str:
    return _key_for(app, regular_user)


def bearer(key: str) -> dict[str, str]:
    """The only header the Elastic Agent sends."""
    return {"Authorization": f"Bearer {key}"}
