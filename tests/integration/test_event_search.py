"""Free-text search over events (webapp.events.search), on the suite's real database.

Everything goes through `search_condition()` under the Logs page's keyset order, the way
EventFilter uses it, so what is tested here is what the page shows.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.factories import insert_first_schema_event, make_event
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.events import search as search_module
from webapp.events.maintenance import delete_expired
from webapp.events.queries import BadQuery
from webapp.events.search import (
    MAX_SEARCH_CHARS,
    bulk_indexing,
    parse_search,
    search_condition,
)
from webapp.models import Event

NEWEST_FIRST = (Event.created.desc(), Event.event_uuid.desc())


def search(text: str, *also: sa.ColumnElement[bool], limit: int = 51) -> list[Event]:
    query = sa.select(Event).where(search_condition(text), *also)
    return list(db.session.scalars(query.order_by(*NEWEST_FIRST).limit(limit)))


def actions(text: str, *also: sa.ColumnElement[bool]) -> list[str]:
    """The actions of the matches (only that column: it exists in every schema)."""
    query = sa.select(Event.action).where(search_condition(text), *also)
    return list(db.session.scalars(query.order_by(*NEWEST_FIRST).limit(51)))


@pytest.fixture
def decoy(ctx: None) -> Event:
    """An event that shares nothing with what the tests look for."""
    return make_event("logout", message="nothing to see here")


@pytest.mark.usefixtures("decoy")
@pytest.mark.parametrize(("recorded", "text"), [
    ({"action": "custom_quarterly_audit"}, "quarterly"),
    ({"action": "custom_quarterly_audit"}, "custom_quarterly_audit"),
    ({"app": "acme.billing"}, "acme.billing"),
    ({"app": "webapp.views.auth"}, "webapp.views.auth"),
    ({"app": "webapp.views.auth"}, "views"),
    ({"user": {"pk": 7, "username": "zoe.quinn", "email": "zoe@example.com"}}, "zoe.quinn"),
    ({"client_ip": "203.0.113.77"}, "203.0.113.77"),
    ({"client_ip": "2001:db8::17"}, "2001:db8::17"),
    ({"context": {"model": {"pk": 3, "app": "herald", "name": "payroll-admins",
                            "model_name": "group"}}}, "payroll-admins"),
    ({"context": {"message": "Disk quota exceeded on volume seven"}}, "quota exceeded"),
    ({"action": "login_failed", "user": {"username": "AnonymousUser", "is_anonymous": True},
      "context": {"username": "mallory@example.org"}}, "mallory@example.org"),
    ({"context": {"http_request": {"path": "/admin/hidden-page", "method": "GET"}}},
     "/admin/hidden-page"),
    ({"context": {"http_request": {"path": "/", "user_agent": "curl/8.4.0"}}}, "curl/8.4"),
    ({"context": {"message": "boom", "exception": "Traceback (most recent call last):\n"
                  "ZeroDivisionError: division by zero"}}, "ZeroDivisionError"),
    ({"context": {"geo": {"city": "Reykjavík", "country": "IS"}}}, "reykjavík"),
])
def test_finds_an_event_by_each_searched_field(recorded: dict, text: str):
    recorded = {"action": "custom_probe", "app": "tests", "client_ip": None, **recorded}
    event = record(recorded.pop("action"), recorded.pop("context", {}), **recorded)
    db.session.commit()

    assert [found.event_uuid for found in search(text)] == [event.event_uuid]


@pytest.mark.usefixtures("ctx")
def test_the_last_word_matches_as_a_prefix_and_the_others_whole():
    make_event("login", message="quota exceeded for the billing volume")

    assert actions("quot") == ["login"]  # typing: the last word is a prefix
    assert actions("billing vol") == ["login"]
    assert actions("203.0.11") == []
    assert actions("quot exceeded") == []  # a word before the last must be whole
    assert actions("q") == []  # one letter is a word, not a prefix of everything
    assert actions("quux") == []  # no indexed word starts with it


@pytest.mark.usefixtures("ctx")
def test_the_request_id_is_left_to_its_own_filter():
    make_event("login", http_request={"path": "/auth/login", "request_id": "9f8e7d6c5b4a"})

    assert actions("auth/login") == ["login"]
    assert actions("9f8e7d6c5b4a") == []


@pytest.mark.usefixtures("ctx")
def test_case_and_unicode_do_not_matter():
    make_event("login", message="Émile signed in from Zürich")

    for text in ("émile", "ÉMILE", "zürich", "ZÜRICH", "Zür",
                 unicodedata.normalize("NFD", "Zürich")):
        assert actions(text) == ["login"], text
    assert actions("zurich") == []  # accents are kept: the same on SQLite and PostgreSQL


@pytest.mark.usefixtures("ctx")
def test_a_phrase_keeps_its_words_in_order_and_together():
    make_event("login", message="connection from 10.20.30.40 refused")

    assert actions("10.20.30.40") == ["login"]
    assert actions("30.40") == ["login"]
    assert actions("40.30") == []
    assert actions("10.30") == []


@pytest.mark.usefixtures("ctx", "match_strategy")
def test_every_word_must_match():
    make_event("login", message="alpha bravo")
    make_event("logout", message="alpha charlie")

    assert sorted(actions("alpha")) == ["login", "logout"]
    assert actions("alpha charlie") == ["logout"]
    assert actions("bravo charlie") == []


@pytest.mark.usefixtures("ctx")
def test_the_condition_combines_with_other_filters():
    make_event("login", message="deploy finished")
    make_event("logout", message="deploy finished")
    make_event("login", message="something else")

    assert actions("deploy", Event.action == "login") == ["login"]
    assert actions("deploy", Event.action.in_(["login", "logout"])) != []
    assert actions("deploy", Event.action == "password_set") == []


@pytest.fixture(params=["few matches", "many matches", "very many matches"])
def match_strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite search_condition picks a plan by how many events match (the thresholds are
    lowered here to reach each plan); every plan must give the same rows."""
    if request.param != "few matches":
        monkeypatch.setattr(search_module, "FEW_MATCHES", 1)
    if request.param == "very many matches":
        monkeypatch.setattr(search_module, "WINDOW", 2)


@pytest.mark.usefixtures("ctx", "match_strategy")
def test_keyset_pages_are_newest_first_even_when_events_arrive_out_of_order():
    now = utcnow()
    # Recorded in this order, but `created` says otherwise (imports, late arrivals), and
    # two share a timestamp so the event id has to break the tie.
    offsets = [3, 9, 1, 7, 7, 0, 5, 12]
    made = [make_event("login", created=now - timedelta(minutes=m), message="needle")
            for m in offsets]
    make_event("logout", created=now - timedelta(minutes=2), message="haystack")
    expected = sorted(made, key=lambda e: (e.created, e.event_uuid), reverse=True)

    pages, cursor = [], None
    while True:
        also = [sa.tuple_(Event.created, Event.event_uuid) < cursor] if cursor else []
        page = search("needle", *also, limit=3)
        pages.append([event.event_uuid for event in page])
        if len(page) < 3:
            break
        cursor = (page[-1].created, page[-1].event_uuid)

    assert [uuid for page in pages for uuid in page] == [e.event_uuid for e in expected]
    assert all(len(page) == 3 for page in pages[:-1])


@pytest.mark.usefixtures("ctx")
def test_deleted_and_expired_events_disappear_from_results():
    make_event("login", message="ephemeral note", expires_in=timedelta(seconds=-1))
    kept = make_event("logout", message="ephemeral note").event_uuid
    deleted = make_event("password_set", message="ephemeral note")

    db.session.delete(deleted)
    db.session.commit()
    assert delete_expired() == 1  # the retention cleanup's bulk delete

    assert [event.event_uuid for event in search("ephemeral")] == [kept]
    assert [event.event_uuid for event in search("note")] == [kept]


def _bulk_rows(count: int, message: str) -> list[dict]:
    now = utcnow()
    return [{"event_uuid": uuid.uuid4(), "action": "login", "app": "tests", "user": {},
             "context": {"message": f"{message} {number}"}, "brand": {}, "created": now,
             "expires": now + timedelta(days=1)} for number in range(count)]


@pytest.mark.usefixtures("ctx")
def test_bulk_inserts_are_indexed_in_one_go_and_the_trigger_comes_back():
    make_event("logout", message="bulk before")
    with bulk_indexing(db.session):
        db.session.execute(sa.insert(Event), _bulk_rows(30, "bulk loaded"))
    db.session.commit()
    make_event("password_set", message="bulk after")  # through the trigger again

    assert len(search("loaded")) == 30
    assert actions("bulk 17") == ["login"]
    assert sorted(set(actions("bulk"))) == ["login", "logout", "password_set"]


@pytest.mark.usefixtures("ctx")
def test_a_failed_bulk_insert_leaves_the_index_and_its_trigger_as_they_were():
    rows = _bulk_rows(3, "doomed")
    rows[2]["event_uuid"] = rows[0]["event_uuid"]  # a duplicate key fails the insert
    with pytest.raises(sa.exc.IntegrityError), bulk_indexing(db.session):
        db.session.execute(sa.insert(Event), rows)
    db.session.rollback()
    make_event("login", message="recorded afterwards")

    assert actions("doomed") == []
    assert actions("afterwards") == ["login"]


@pytest.mark.usefixtures("ctx")
def test_changed_text_is_searched_as_it_is_now():
    event = make_event("login", message="before the edit")
    event.context = {**event.context, "message": "after the edit"}
    db.session.commit()
    event.expires = event.expires + timedelta(days=1)  # not a searched column
    db.session.commit()

    assert actions("after") == ["login"]
    assert actions("before") == []


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize("text", [
    "", "   ", "*", "!!!", '"', "-- ;", "…", "x" * (MAX_SEARCH_CHARS + 1),
    " ".join(["word"] * 11),
])
def test_text_that_cannot_be_searched_is_a_bad_query(text: str):
    with pytest.raises(BadQuery) as caught:
        search_condition(text)
    assert str(caught.value)


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize("text", [
    '"foo', "foo\"", "AND OR", "NOT x", "a OR b", "NEAR(a b)", "col:value", "^start",
    "foo*", "(unbalanced", "it's", "a & b | !c", "x <-> y", "1:*", "'quoted'", "{x}",
    "\\x00", "l\u2019été", "\U0001f600 smile", "DROP TABLE events;--",
])
def test_query_syntax_in_the_text_is_searched_as_words_never_a_database_error(text: str):
    make_event("login", message=f"the text {text} appears here")

    assert actions(text) == ["login"]


def test_parsed_terms_are_words_only():
    terms = parse_search('say "hello" to webapp.views.au')

    assert terms.phrases == (("say",), ("hello",), ("to",), ("webapp", "views", "au"))
    assert terms.prefix
    assert terms.fts5() == '"say" AND "hello" AND "to" AND "webapp views au"*'


def test_the_migration_indexes_existing_events_and_downgrades_cleanly(
        empty_database: str, tmp_path: Path):
    app = create_app(config_for_tests(empty_database))
    cli = app.test_cli_runner()
    assert cli.invoke(args=["db", "upgrade", "0002"]).exit_code == 0
    with app.app_context():
        insert_first_schema_event("login", {"message": "written before search existed"})

        result = cli.invoke(args=["db", "upgrade", "0003_search"])
        assert result.exit_code == 0, result.output
        assert actions("before search") == ["login"]
        insert_first_schema_event("logout", {"message": "written after"})
        assert actions("written") == ["logout", "login"]
        db.session.commit()  # end the read, so the downgrade's DDL does not wait for it

        result = cli.invoke(args=["db", "downgrade", "0002"])
        assert result.exit_code == 0, result.output
        inspector = sa.inspect(db.engine)
        names = {*inspector.get_table_names(),
                 *(index["name"] for index in inspector.get_indexes("events"))}
        assert not {name for name in names if "events_search" in name}
        insert_first_schema_event("logout", {"message": "still recordable"})
        db.session.remove()
        db.engine.dispose()


def test_on_postgresql_the_index_is_asked_for_the_rarest_phrase_and_the_rest_checked(ctx):
    """Words typed together mostly come together, so the planner's product of their
    frequencies is far too low; the index gets only the rarest phrase (sound estimate)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner")
    for n in range(60):
        record("login", {"message": f"common word {n}" + (" omega" if n == 7 else "")},
               app="tests")
    db.session.commit()
    db.session.execute(sa.text("ANALYZE events"))

    condition = str(search_condition("common omega").compile(
        dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))

    assert "@@ to_tsquery('simple'::regconfig, '''omega'':*')" in condition
    assert "ts_match_vq(" in condition and "'common'" in condition
    assert actions("common omega") == ["login"]
    assert actions("common word") == ["login"] * 51
