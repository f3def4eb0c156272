"""events/events/: authentik's shapes, the Elastic Agent's walk, filters and writes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.api.conftest import bearer
from tests.factories import make_event
from tests.helpers import counted_statements
from webapp import create_app
from webapp.api.pagination import _Count, pagination_for
from webapp.core.config import config_for_tests
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Event, EventHourCount

EVENT_KEYS = ["pk", "user", "action", "app", "context", "client_ip", "created", "expires",
              "brand"]
PAGINATION_KEYS = {"next", "previous", "count", "current", "total_pages", "start_index",
                   "end_index"}


def _many_events(app, count: int) -> set[str]:
    """`count` events in one transaction, a few sharing a timestamp (ties are by pk)."""
    start = utcnow() - timedelta(hours=1)
    with app.app_context():
        events = [record("login", {"username": f"user{i}"}, app="tests", client_ip="81.2.69.144",
                         created=start + timedelta(seconds=i // 3)) for i in range(count)]
        db.session.commit()
        return {str(event.event_uuid) for event in events}


def _walk(client, key: str, page_size: int) -> list[dict]:
    """What the agent's CEL program does: follow pagination.next until it is 0."""
    page, seen = 1, []
    while True:
        response = client.get(f"/api/v3/events/events/?page={page}&page_size={page_size}",
                              headers=bearer(key))
        assert response.status_code == 200
        body = response.get_json()
        assert set(body["pagination"]) == PAGINATION_KEYS
        seen += body["results"]
        if body["pagination"]["next"] == 0:
            return seen
        page = body["pagination"]["next"]


@pytest.mark.parametrize(("count", "page_size"), [(5, 2), (1003, 1000)])
def test_agent_walk_collects_every_event_once(app, client, admin_key, count, page_size):
    expected = _many_events(app, count)
    pks = [event["pk"] for event in _walk(client, admin_key, page_size)
           if event["app"] == "tests"]
    assert len(pks) == len(set(pks)) == count
    assert set(pks) == expected


def test_pagination_figures_match_authentik_mock(app, client, admin_key):
    """The Elastic system-test mock: 5 objects, page_size 2 (no other events exist)."""
    _many_events(app, 5)
    figures = []
    for page in (1, 2, 3):
        body = client.get(f"/api/v3/events/events/?page={page}&page_size=2&app=tests&"
                          "actions=login", headers=bearer(admin_key)).get_json()
        pagination = body["pagination"]
        figures.append(tuple(pagination[key] for key in (
            "next", "previous", "count", "current", "total_pages", "start_index", "end_index")))
    assert figures == [(2, 0, 5, 1, 3, 1, 2), (3, 1, 5, 2, 3, 3, 4), (0, 2, 5, 3, 3, 5, 5)]


def test_page_past_the_end_is_empty_with_next_zero(client, admin_key):
    response = client.get("/api/v3/events/events/?page=50&page_size=2", headers=bearer(admin_key))
    assert response.status_code == 200
    assert response.get_json()["results"] == []
    assert response.get_json()["pagination"]["next"] == 0


def test_event_shape_and_byte_identical_polls(app, client, admin_key):
    with app.app_context():
        make_event("login_failed", username="mallory", password="hunter2")
    url = "/api/v3/events/events/?actions=login_failed&page=1&page_size=1000"
    first = client.get(url, headers=bearer(admin_key))
    second = client.get(url, headers=bearer(admin_key))
    assert first.mimetype == "application/json"
    assert first.data == second.data
    event = first.get_json()["results"][0]
    assert list(event) == EVENT_KEYS
    assert str(uuid.UUID(event["pk"])) == event["pk"]
    assert event["created"].endswith("Z") and event["expires"].endswith("Z")
    assert event["context"]["password"] == "********************"
    assert set(event["brand"]) == {"pk", "app", "name", "model_name"}
    detail = client.get(f"/api/v3/events/events/{event['pk']}/", headers=bearer(admin_key))
    assert detail.get_json() == event


@pytest.mark.parametrize(("query", "expected"), [
    ("action=ogin_fai", {"login_failed"}),
    ("actions=login&actions=logout", {"login", "logout"}),
    ("username=carol", {"logout"}),
    ("client_ip=10.0.0.0/8", {"login"}),
    ("context_model_app=herald&context_model_name=u&actions=model_updated", {"model_updated"}),
    ("context_model_pk=42&actions=model_updated", {"model_updated"}),
    ("context_authorized_app=abc", {"authorize_application"}),
    ("brand_name=Herald&actions=logout", {"logout"}),
    ("search=carol", {"logout"}),
])
def test_filters(app, client, admin_key, query, expected):
    with app.app_context():
        record("login", {}, app="tests", client_ip="10.1.2.3")
        record("login_failed", {"username": "dave"}, app="tests", client_ip="81.2.69.144")
        record("logout", {}, app="tests", user={"pk": 9, "username": "carol", "email": ""})
        record("model_updated", {"model": {"pk": 42, "app": "herald", "name": "x",
                                           "model_name": "u"}}, app="tests")
        # Set after record(): its cleansing masks keys containing AUTH, this one included.
        record("authorize_application", app="tests").context = {
            "authorized_application": {"pk": "abc"}}
        db.session.commit()
    body = client.get(f"/api/v3/events/events/?{query}&page_size=100",
                      headers=bearer(admin_key)).get_json()
    assert {event["action"] for event in body["results"]} == expected


def test_ordering_and_ties(app, client, admin_key):
    _many_events(app, 9)
    newest = client.get("/api/v3/events/events/?page_size=100&actions=login",
                        headers=bearer(admin_key)).get_json()["results"]
    oldest = client.get("/api/v3/events/events/?page_size=100&actions=login&ordering=created",
                        headers=bearer(admin_key)).get_json()["results"]
    assert [event["pk"] for event in newest] == [event["pk"] for event in reversed(oldest)]


def test_create_custom_event_is_the_callers(app, client, admin_key):
    response = client.post("/api/v3/events/events/", headers=bearer(admin_key), json={
        "action": "deploy_finished", "app": "ci", "context": {"build": 7},
        "client_ip": "192.0.2.1"})
    assert response.status_code == 201
    event = response.get_json()
    assert event["action"] == "custom_deploy_finished"
    assert event["user"]["username"] == "admin"
    assert event["client_ip"] == "192.0.2.1" and event["context"]["build"] == 7


def test_bulk_is_all_or_nothing(app, client, admin_key):
    items = [{"action": "login", "app": "idp", "user": {"pk": 3, "username": "x", "email": ""},
              "created": "2026-01-02T03:04:05Z", "client_ip": "192.0.2.9"}] * 3
    bad = client.post("/api/v3/events/events/bulk/", headers=bearer(admin_key),
                      json=[*items, {"action": "", "app": "idp"}])
    assert bad.status_code == 400 and "3.action" in bad.get_json()
    listed = client.get("/api/v3/events/events/?actions=login&username=x",
                        headers=bearer(admin_key))
    assert listed.get_json()["pagination"]["count"] == 0
    good = client.post("/api/v3/events/events/bulk/", headers=bearer(admin_key), json=items)
    assert good.status_code == 201 and good.get_json()["created"] == 3
    body = client.get("/api/v3/events/events/?actions=login&username=x",
                      headers=bearer(admin_key)).get_json()
    assert [event["created"] for event in body["results"]] == ["2026-01-02T03:04:05.000000Z"] * 3


def test_bulk_strips_nul_characters_postgresql_refuses(app, client, admin_key):
    item = {"action": "lo\u0000gin", "app": "i\u0000dp", "context": {"k\u0000": "v\u0000"},
            "user": {"pk": 3, "username": "n\u0000ul", "email": ""}}
    response = client.post("/api/v3/events/events/bulk/", headers=bearer(admin_key),
                           json=[item])
    assert response.status_code == 201, response.text
    pk = response.get_json()["pks"][0]
    event = client.get(f"/api/v3/events/events/{pk}/", headers=bearer(admin_key)).get_json()
    assert (event["action"], event["app"], event["user"]["username"]) == ("login", "idp", "nul")
    assert event["context"]["k"] == "v"


def test_bulk_refuses_a_time_whose_expiry_cannot_exist(client, admin_key):
    response = client.post("/api/v3/events/events/bulk/", headers=bearer(admin_key), json=[
        {"action": "login", "app": "idp", "created": "9999-12-31T23:59:59Z"}])
    assert response.status_code == 400
    assert "0.created" in response.get_json()


def test_actions_and_volume(app, client, admin_key):
    with app.app_context():
        make_event("login")
    actions = client.get("/api/v3/events/events/actions/", headers=bearer(admin_key)).get_json()
    assert {"name": "Login Failed", "description": "", "component": "login_failed",
            "model_name": ""} in actions
    volume = client.get("/api/v3/events/events/volume/?history_days=2",
                        headers=bearer(admin_key)).get_json()
    assert any(row["action"] == "login" and row["count"] == 1 for row in volume)


@pytest.mark.parametrize(("method", "url", "body"), [
    ("get", "/api/v3/events/events/?page_size=1001", None),
    ("get", "/api/v3/events/events/?page=0", None),
    ("get", "/api/v3/events/events/?page=abc", None),
    ("get", "/api/v3/events/events/?client_ip=not-an-ip", None),
    ("get", "/api/v3/events/events/?ordering=password", None),
    ("get", "/api/v3/events/events/volume/?history_days=900", None),
    ("post", "/api/v3/events/events/", "{not json"),
    ("post", "/api/v3/events/events/", {"action": 5, "app": []}),
    ("post", "/api/v3/events/events/", {"action": "a", "app": "b", "surprise": 1}),
    ("post", "/api/v3/events/events/", {"action": "a", "app": "b", "client_ip": "999.1.1.1"}),
    ("post", "/api/v3/events/events/bulk/", {"action": "a"}),
])
def test_bad_input_is_400_json(client, admin_key, method, url, body):
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) \
        else {"json": body}
    response = getattr(client, method)(url, headers=bearer(admin_key),
                                       **(kwargs if body is not None else {}))
    assert response.status_code == 400, response.text
    assert response.mimetype == "application/json"
    assert response.get_json()


def test_unknown_event_is_404_json(client, admin_key):
    for pk in (uuid.uuid4(), "nope"):
        response = client.get(f"/api/v3/events/events/{pk}/", headers=bearer(admin_key))
        assert response.status_code == 404
        assert "detail" in response.get_json()


def test_walk_survives_new_events_and_jumps(app, client, admin_key):
    """A walk resumes after the last event it was shown, so events recorded meanwhile
    neither repeat nor hide older ones; a page asked for out of turn is still right."""
    expected = _many_events(app, 7)
    url = "/api/v3/events/events/?actions=login&page_size=3&page="
    first = client.get(url + "1", headers=bearer(admin_key)).get_json()["results"]
    _many_events(app, 2)  # newer than everything: they sort before page 1
    rest = [client.get(url + page, headers=bearer(admin_key)).get_json()["results"]
            for page in ("2", "3")]
    walked = [event["pk"] for event in first + rest[0] + rest[1]]
    assert len(walked) == len(set(walked)) and set(walked) >= expected
    everything = client.get("/api/v3/events/events/?actions=login&page_size=100",
                            headers=bearer(admin_key)).get_json()["results"]
    jumped = client.get("/api/v3/events/events/?actions=login&page_size=4&page=2",
                        headers=bearer(admin_key)).get_json()
    assert jumped["pagination"]["start_index"] == 5
    assert jumped["results"] == everything[4:8]


def test_top_per_user(app, client, admin_key):
    with app.app_context():
        for pk in (1, 2, 2):
            record("authorize_application", app="tests",
                   user={"pk": pk, "username": f"u{pk}", "email": ""}).context = {
                "authorized_application": {"pk": "abc", "name": "Grafana"}}
        db.session.commit()
    body = client.get("/api/v3/events/events/top_per_user/?action=authorize_application",
                      headers=bearer(admin_key)).get_json()
    assert body == [{"application": {"pk": "abc", "name": "Grafana"}, "counted_events": 3,
                     "unique_users": 2}]


def _counts_run(app, action) -> int:
    """How many count(*) queries `action()` sends to the database."""
    with app.app_context():
        engine = db.engine
    with counted_statements(engine) as statements:
        action()
    return sum("count(*)" in statement.lower() for statement in statements)


def test_a_walk_counts_on_its_first_page_only(app, client, admin_key):
    """Counting a million events costs more than the page itself, so the walk carries the
    count of its first page; a page asked for out of turn counts afresh."""
    _many_events(app, 7)
    url = "/api/v3/events/events/?actions=login&page_size=3&page="
    pages = {}

    def ask(page):
        pages[page] = client.get(url + page, headers=bearer(admin_key)).get_json()
    assert _counts_run(app, lambda: ask("1")) == 1
    assert _counts_run(app, lambda: ask("2")) == 0
    assert _counts_run(app, lambda: ask("3")) == 0
    assert [pages[page]["pagination"]["count"] for page in "123"] == [7, 7, 7]
    assert [pages[page]["pagination"]["next"] for page in "123"] == [2, 3, 0]
    assert _counts_run(app, lambda: client.get(  # not a walk: another page size
        "/api/v3/events/events/?actions=login&page_size=2&page=2", headers=bearer(admin_key))) == 1


def test_a_walk_resumes_on_whichever_worker_gets_the_next_page(app, client, admin_key):
    """Under gunicorn the agent's next page may reach another worker process: the cursor is
    kept in the database, so that worker resumes after page 1 instead of skipping by OFFSET
    over millions of index entries."""
    _many_events(app, 7)
    url = "/api/v3/events/events/?page_size=3&page="
    first = client.get(url + "1", headers=bearer(admin_key)).get_json()
    other_worker = create_app(config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"]))
    try:
        with other_worker.app_context():
            engine = db.engine
        with counted_statements(engine) as statements:
            second = other_worker.test_client().get(url + "2", headers=bearer(admin_key))
    finally:
        with other_worker.app_context():
            db.session.remove()
            db.engine.dispose()

    assert any("(events.created, events.event_uuid) <" in statement for statement in statements)
    walked = [event["pk"] for event in first["results"] + second.get_json()["results"]]
    both_pages = client.get("/api/v3/events/events/?page_size=6&page=1", headers=bearer(admin_key))
    assert walked == [event["pk"] for event in both_pages.get_json()["results"]]


def test_a_walk_whose_tail_expired_ends_at_once(app, client, admin_key):
    """Events that expire mid-walk shorten it: the page that comes up short says next 0,
    even though the count of the first page promised more."""
    _many_events(app, 7)
    url = "/api/v3/events/events/?actions=login&page_size=3&page="
    first = client.get(url + "1", headers=bearer(admin_key)).get_json()
    assert first["pagination"]["next"] == 2
    with app.app_context():
        shown = [uuid.UUID(event["pk"]) for event in first["results"]]
        db.session.execute(sa.delete(Event).where(Event.event_uuid.not_in(shown),
                                                  Event.app == "tests"))
        db.session.commit()
    second = client.get(url + "2", headers=bearer(admin_key)).get_json()
    assert second["results"] == []
    assert (second["pagination"]["next"], second["pagination"]["count"]) == (0, 3)


def test_above_the_exact_count_limit_postgresql_reports_the_planners_estimate(app, client,
                                                                             admin_key):
    """Counting ten million events costs a second per page: past API_EXACT_COUNT_LIMIT the
    count is the planner's estimate, no count(*) runs, and the walk still gets every event."""
    expected = _many_events(app, 25)
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
        if postgresql:
            db.session.execute(sa.text("ANALYZE events"))
            db.session.commit()
    app.config["API_EXACT_COUNT_LIMIT"] = 10
    url = "/api/v3/events/events/?actions=login&page_size=10&page=1"
    counts = _counts_run(app, lambda: client.get(url, headers=bearer(admin_key)))
    first = client.get(url, headers=bearer(admin_key)).get_json()["pagination"]

    assert counts == (0 if postgresql else 1)  # SQLite has no estimate: it counts exactly
    assert first["next"] == 2 and first["count"] > 10
    walked = [event["pk"] for event in _walk(client, admin_key, 10)]
    assert len(walked) == len(set(walked)) and expected <= set(walked)


def _events_over_hours(app, per_hour: Sequence[int]) -> None:
    """per_hour[i] events i hours back (some hours empty), with ties inside each hour."""
    now = utcnow().replace(minute=30, second=0, microsecond=0)
    with app.app_context():
        for hours_ago, count in enumerate(per_hour):
            for i in range(count):
                record("login", app="tests",
                       created=now - timedelta(hours=hours_ago, minutes=i // 2))
        db.session.commit()


def _page(client, key: str, query: str) -> dict:
    return client.get(f"/api/v3/events/events/?{query}", headers=bearer(key)).get_json()


@pytest.mark.parametrize("ordering", ["-created", "created"])
@pytest.mark.parametrize("page_size", [2, 3])
def test_every_page_jumped_to_is_that_slice_of_the_whole_list(app, client, admin_key,
                                                              ordering, page_size):
    """Pages asked for out of turn (last first, so none resumes a walk) across hours of
    different sizes, empty ones among them: each is exactly its slice of the list."""
    _events_over_hours(app, [3, 0, 5, 1, 4, 0, 0, 2])
    whole = _page(client, admin_key, f"ordering={ordering}&page_size=1000")["results"]
    pages = -(-len(whole) // page_size)
    for page in range(pages + 1, 0, -1):
        body = _page(client, admin_key, f"ordering={ordering}&page_size={page_size}&page={page}")
        start = (page - 1) * page_size
        assert body["results"] == whole[start:start + page_size], f"page {page}"
        assert body["pagination"]["count"] == len(whole)


def test_on_postgresql_a_page_jumped_to_is_found_by_adding_up_hours(app, client, admin_key):
    """The page is placed by the hour counts, not by skipping rows: were the newest hour's
    count two higher, a page two rows into the next hour would start at that hour's first row
    (made so here, on purpose)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite keeps no hour counts: it skips rows by OFFSET")
    _events_over_hours(app, [4, 4, 4])
    whole = _page(client, admin_key, "page_size=1000")["results"]
    hours = [event["created"][:13] for event in whole]
    second_hour_starts = next(i for i, hour in enumerate(hours) if hour != hours[0])
    with app.app_context():
        newest = db.session.scalar(sa.select(sa.func.max(EventHourCount.hour)))
        db.session.add(EventHourCount(hour=newest, shard=-1, events=2))
        db.session.commit()

    body = _page(client, admin_key, f"page_size=1&page={second_hour_starts + 3}")

    assert body["results"] == whole[second_hour_starts:second_hour_starts + 1]
    assert body["pagination"]["count"] == len(whole) + 2


def test_on_postgresql_the_whole_list_is_counted_exactly_without_counting_rows(
        app, client, admin_key):
    """Past API_EXACT_COUNT_LIMIT a filtered list reports an estimate; the whole list's count
    comes from the hour counts, exact and without a count(*)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite keeps no hour counts: it counts")
    _events_over_hours(app, [30, 0, 7])
    app.config["API_EXACT_COUNT_LIMIT"] = 10
    pages = []

    counts = _counts_run(app, lambda: pages.append(_page(client, admin_key, "page_size=5")))

    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Event))
    assert counts == 0
    assert pages[0]["pagination"]["count"] == total >= 37


def test_an_estimated_count_never_ends_the_list_after_a_full_page():
    """The planner may guess low: a full page that reaches the estimate still offers `next`,
    and a short page ends the list with the exact count."""
    guessed_low = _Count(20, exact=False).settled(start=10, shown=10, size=10)
    short = _Count(20, exact=False).settled(start=20, shown=4, size=10)

    assert pagination_for(guessed_low.value, 2, 10, 10).next == 3
    assert (short.value, short.exact, pagination_for(short.value, 3, 10, 4).next) == (24, True, 0)
