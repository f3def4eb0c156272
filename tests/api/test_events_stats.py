"""events/events/stats/: authentik's distinct users and per-span counts, exact."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.conftest import bearer
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record

URL = "/api/v3/events/events/stats/"
ANONYMOUS = {"username": "AnonymousUser", "email": "", "is_anonymous": True}


@pytest.fixture
def history(app):
    """Events 1 h, 2 d, 10 d and 90 d old, by three users and nobody."""
    now = utcnow()
    events = [("login", 1, timedelta(hours=1)), ("login", 2, timedelta(hours=1)),
              ("login_failed", None, timedelta(hours=1)), ("login", 1, timedelta(days=2)),
              ("logout", 3, timedelta(days=10)), ("login", 4, timedelta(days=90))]
    with app.app_context():
        for action, pk, age in events:
            user = {"pk": pk, "username": f"user{pk}", "email": ""} if pk else ANONYMOUS
            record(action, {}, app="tests", user=user, client_ip="192.0.2.1",
                   created=now - age)
        db.session.commit()


def _stats(client, key: str, query: str):
    """Only the history's events (the fixtures' own audit events come from no address)."""
    return client.get(f"{URL}?client_ip=192.0.2.1&{query}", headers=bearer(key))


def test_counts_each_span_and_the_distinct_users_of_the_last_60_days(client, admin_key, history):
    response = _stats(client, admin_key,
                      "count_steps=hours=24&count_steps=days=7&count_steps=weeks=26")
    assert response.status_code == 200, response.text
    assert response.get_json() == {"unique_users": 3, "count_step": {
        "hours24": 3, "days7": 4, "weeks26": 5}}


def test_the_list_filters_apply(client, admin_key, history):
    body = _stats(client, admin_key, "count_steps=days=30&actions=login").get_json()
    assert body == {"unique_users": 2, "count_step": {"days30": 3}}
    body = _stats(client, admin_key, "count_steps=days=30&username=user3").get_json()
    assert body == {"unique_users": 1, "count_step": {"days30": 1}}


def test_a_compound_step_is_keyed_without_its_separators(client, admin_key, history):
    body = _stats(client, admin_key, "count_steps=days=1;hours=12").get_json()
    assert body["count_step"] == {"days1hours12": 3}


@pytest.mark.parametrize("query", ["count_steps=24d", "count_steps=fortnights=2",
                                   "count_steps=days=-1", "count_steps=", ""])
def test_a_missing_or_malformed_step_is_400(client, admin_key, query):
    response = _stats(client, admin_key, query)
    assert response.status_code == 400
    assert "count_steps" in response.get_json()


def test_a_regular_user_may_not_see_stats(client, user_key):
    assert _stats(client, user_key, "count_steps=days=1").status_code == 403
