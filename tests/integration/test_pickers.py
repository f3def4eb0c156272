"""The pickers' search routes: what a search finds, in which order, and what it leaves out."""

from __future__ import annotations

import re

import pytest

from tests.factories import insert_users, make_user
from tests.helpers import counted_statements, post_form
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db
from webapp.directory.groups import create_group
from webapp.directory.name_search import USERS
from webapp.models import User


def offered(client, url: str, **query: str) -> list[str]:
    """The labels of the options a search route answers with, in order."""
    response = client.get(url, query_string=query or None)
    assert response.status_code == 200, response.text
    return re.findall(r'data-label="([^"]*)"', response.text)


@pytest.fixture
def people(app) -> None:
    with app.app_context():
        for username in ("joanne", "annette", "bob", "anna", "ann"):
            make_user(username)
        make_user("sam", email="sam@corp.example.org", name="Sam Smith")


def test_exact_matches_come_first_then_prefixes_then_the_rest(admin_client, people):
    assert offered(admin_client, "/directory/pick/users?q=ANN") == [
        "ann", "anna", "annette", "joanne"]


def test_the_email_and_the_name_are_searched_too(admin_client, people):
    assert offered(admin_client, "/directory/pick/users?q=corp.example") == ["sam"]
    assert offered(admin_client, "/directory/pick/users?q=smith") == ["sam"]
    assert "sam" in admin_client.get("/directory/pick/users?q=smith").text
    assert "Sam Smith · sam@corp.example.org" in admin_client.get(
        "/directory/pick/users?q=smith").text


def test_one_letter_finds_whole_names_and_two_find_beginnings(admin_client, app, people):
    with app.app_context():
        make_user("b")

    assert offered(admin_client, "/directory/pick/users?q=b") == ["b"]
    assert offered(admin_client, "/directory/pick/users?q=bo") == ["bob"]
    assert offered(admin_client, "/directory/pick/users?q=ob") == []  # inside: 3 letters on


def test_nothing_typed_lists_the_first_users_by_name(admin_client, people):
    assert offered(admin_client, "/directory/pick/users")[:3] == ["admin", "ann", "anna"]


def test_a_search_answers_with_at_most_twenty(admin_client, app):
    with app.app_context():
        for number in range(25):
            make_user(f"crew{number:02d}")

    assert len(offered(admin_client, "/directory/pick/users?q=crew")) == 20


@pytest.mark.parametrize("typed", ['%', "_", '"', "*", "\\", "r_s%", 'a" OR "b', "x" * 5000])
def test_what_is_typed_is_looked_for_literally(admin_client, app, typed):
    with app.app_context():
        make_user("under_score")
        make_user("underXscore")

    assert offered(admin_client, "/directory/pick/users", q=typed) == []
    assert offered(admin_client, "/directory/pick/users?q=r_s") == ["under_score"]


def test_nobody_found_says_so(admin_client):
    page = admin_client.get("/directory/pick/users?q=nobody-at-all").text

    assert 'aria-disabled="true"' in page and "No users match “nobody-at-all”." in page


def test_the_index_follows_renames_and_deletions(admin_client, app, people):
    with app.app_context():
        bob = db.session.scalar(db.select(User).filter_by(username="bob"))
        bob.username, bob.email = "robert", "robert@example.com"
        db.session.commit()
    assert offered(admin_client, "/directory/pick/users?q=bob") == []
    assert offered(admin_client, "/directory/pick/users?q=robert") == ["robert"]

    with app.app_context():
        db.session.delete(db.session.scalar(db.select(User).filter_by(username="robert")))
        db.session.commit()
    assert offered(admin_client, "/directory/pick/users?q=robert") == []


def test_groups_are_searched_by_name_and_say_where_they_sit(admin_client, app):
    with app.app_context():
        ops = create_group(name="ops", parent=None, is_superuser=False)
        create_group(name="ops-eu", parent=ops, is_superuser=False)
        create_group(name="sales", parent=None, is_superuser=False)
        db.session.commit()

    assert offered(admin_client, "/directory/pick/groups?q=ops") == ["ops", "ops-eu"]
    assert "below ops" in admin_client.get("/directory/pick/groups?q=ops-eu").text


@pytest.mark.parametrize("query", ["skip_members_of=abc", "skip_members_of=99999999999",
                                   "skip_members_of=424242", "skip_members_of="])
def test_a_leave_out_argument_that_names_no_group_is_refused(admin_client, query):
    response = admin_client.get(f"/directory/pick/users?q=a&{query}")

    assert response.status_code == 400
    assert "skip_members_of names no group." in response.text


def test_a_chosen_group_comes_back_by_name_with_its_id_in_the_hidden_input(admin_client, app):
    with app.app_context():
        ops = create_group(name="ops", parent=None, is_superuser=False)
        eu = create_group(name="ops-eu", parent=ops, is_superuser=False)
        db.session.commit()
        ops_id, eu_id = ops.num_pk, eu.num_pk

    page = admin_client.get(f"/directory/groups/{eu_id}").text

    assert re.search(r'role="combobox"[^>]*value="ops"', page, re.S)
    assert f'<input type="hidden" name="parent_id" value="{ops_id}" data-picker-hidden>' in page
    assert f'data-picker-source="/directory/pick/groups?skip_tree_of={eu_id}"' in page


def test_a_rule_bound_to_a_user_posts_the_username_the_picker_shows(admin_client, app):
    with app.app_context():
        make_user("carol")
    response = post_form(admin_client, "/events/rules/new", {
        "name": "Carol watch", "severity": "notice", "policy_engine_mode": "any",
        "throttle_minutes": "0", "bindings-0-kind": "user", "bindings-0-username": "nobody",
        "bindings-0-order": "0", "bindings-0-timeout": "30"})

    assert "No user named &#39;nobody&#39;." in response.text
    assert re.search(r'role="combobox"[^>]*value="nobody"', response.text, re.S)


def test_migrating_indexes_the_users_already_there(empty_database):
    app = create_app(config_for_tests(empty_database))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0008"]).exit_code == 0
    with app.app_context():  # rows only: the models are the newest schema's, not 0008's
        insert_users(1)

    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert [user.username for user in USERS.find("user000000@", limit=20)] == ["user000000"]
        db.session.remove()
        db.engine.dispose()


def test_where_groups_sit_is_read_in_one_query_however_many_match(admin_client, app):
    """Each match says which group it sits below; the parents come in one query, not one
    query per match."""
    with app.app_context():
        parents = [create_group(name=f"region-{n}", parent=None, is_superuser=False)
                   for n in range(10)]
        for n, parent in enumerate(parents):
            create_group(name=f"team-{n:02d}", parent=parent, is_superuser=False)
        db.session.commit()
        engine = db.engine
    with counted_statements(engine) as statements:
        page = admin_client.get("/directory/pick/groups?q=team").text
    assert all(f"below region-{n}" in page for n in range(10))
    assert sum("FROM groups" in statement for statement in statements) <= 4, statements
