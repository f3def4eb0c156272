"""Directory > Users: listing, searching, creating, editing, passwords and deleting."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from tests.factories import make_token, make_user
from tests.helpers import counted_statements, events, login, post_form
from tests.integration.directory_helpers import ask_then_confirm, stored
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.directory.accounts import ensure_admins_group
from webapp.events import record
from webapp.models import Token, User

HTMX = {"HX-Request": "true"}


@pytest.fixture
def bob(app):
    with app.app_context():
        return make_user("bob", name="Bob Builder", email="bob@example.com").id


def test_the_list_shows_every_user_with_superuser_and_inactive_badges(app, admin_client):
    with app.app_context():
        make_user("carol", is_active=False)

    page = admin_client.get("/directory/users")

    assert page.status_code == 200
    assert "admin" in page.text and "carol" in page.text
    assert 'badge text-bg-primary">superuser' in page.text
    assert 'badge text-bg-secondary">inactive' in page.text
    assert "2 users" in page.text


def test_regular_users_cannot_see_or_create_users(user_client):
    assert user_client.get("/directory/users").status_code == 403
    response = post_form(user_client, "/directory/users/new", {"username": "mallory"})
    assert response.status_code == 403


def test_search_matches_username_name_and_email_case_insensitively(app, admin_client, bob):
    with app.app_context():
        make_user("dora", email="dora@corp.test")

    by_name = admin_client.get("/directory/users?q=builder").text
    by_email = admin_client.get("/directory/users?q=CORP.TEST").text

    assert "bob" in by_name and "dora" not in by_name
    assert "dora" in by_email and "bob@example.com" not in by_email


def test_search_is_answered_by_the_name_index_not_a_scan_of_every_user(app, admin_client, bob):
    """The index is what keeps the page fast with 100,000 users (see bench_pickers)."""
    with app.app_context():
        engine = db.engine
    with counted_statements(engine) as statements:
        page = admin_client.get("/directory/users?q=Builder").text

    on_users = [statement for statement in statements if "FROM users" in statement]
    assert "bob" in page
    assert any("users_names" in statement or "E'\\n'" in statement for statement in on_users)
    assert not any("LIKE" in statement.upper() and "lower(users." in statement
                   for statement in on_users)


def test_text_shorter_than_a_trigram_still_finds_users(admin_client, bob):
    assert "bob" in admin_client.get("/directory/users?q=OB").text


def test_htmx_search_answers_with_the_table_fragment_only(admin_client, bob):
    response = admin_client.get("/directory/users?q=bob", headers=HTMX)

    assert response.text.lstrip().startswith('<div id="user-table">')
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert "1 user matching “bob”" in response.text


def test_search_wildcards_are_taken_literally_and_no_match_shows_an_empty_state(
        admin_client, bob):
    page = admin_client.get("/directory/users?q=%25").text

    assert ">bob</a>" not in page
    assert "No users match “%”." in page


def test_users_are_paged_and_silly_page_numbers_do_not_fail(app, admin_client):
    app.config["PAGE_SIZE"] = 2
    with app.app_context():
        for name in ("u1", "u2", "u3"):
            make_user(name)

    second = admin_client.get("/directory/users?page=2").text

    listed = [name for name in ("u1", "u2", "u3") if f">{name}</a>" in second]
    assert listed == ["u2", "u3"]
    assert "3–4 of 4" in second
    for page in ("0", "-5", "abc", "99999999999999999999999"):
        assert admin_client.get(f"/directory/users?page={page}").status_code == 200


def test_creating_a_user_with_a_password_lets_them_sign_in(app, admin_client):
    response = post_form(admin_client, "/directory/users/new", {
        "username": "erin", "name": "Erin", "email": "erin@example.com",
        "password": "erin-password-1", "is_active": "y"})

    with app.app_context():
        erin = stored(User, username="erin")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/directory/users/{erin.id}"
        assert (erin.name, erin.email, erin.is_active, erin.is_superuser) == \
            ("Erin", "erin@example.com", True, False)
    assert "Created user erin." in admin_client.get(response.headers["Location"]).text
    assert login(app.test_client(), "erin", "erin-password-1").status_code == 302


def test_a_user_created_without_a_password_has_none(app, admin_client):
    post_form(admin_client, "/directory/users/new", {"username": "svc", "is_superuser": "y"})

    with app.app_context():
        svc = stored(User, username="svc")
        assert svc.password_hash is None
        assert svc.is_superuser and not svc.is_active


@pytest.mark.parametrize(("form", "message"), [
    ({"username": "BOB"}, "A user named &#39;BOB&#39; already exists."),
    ({"username": "new", "email": "not-an-email"}, "Enter a valid email address."),
    ({"username": "x" * 151}, "Field cannot be longer than 150 characters."),
    ({"username": "   "}, "This field is required."),
    ({"username": "new", "password": "short"}, "Field must be between 8 and 1024 characters"),
    ({"username": "new", "name": "n" * 100_000}, "Field cannot be longer than 255 characters."),
])
def test_invalid_new_users_are_refused_next_to_the_field(app, admin_client, bob, form, message):
    response = post_form(admin_client, "/directory/users/new", form)

    assert response.status_code == 200
    assert message in response.text
    assert "invalid-feedback" in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2


def test_the_edit_form_saves_profile_flags_and_attributes(app, admin_client, bob):
    response = post_form(admin_client, f"/directory/users/{bob}", {
        "name": "Robert", "email": "robert@example.com", "is_superuser": "y",
        "attributes": '{"team": "ops", "level": 3}'})

    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, bob)
        assert (user.name, user.email, user.is_active, user.is_superuser) == \
            ("Robert", "robert@example.com", False, True)
        assert user.attributes == {"team": "ops", "level": 3}
    page = admin_client.get(response.headers["Location"]).text
    assert "Saved the changes to bob." in page
    assert "&#34;team&#34;: &#34;ops&#34;" in page


@pytest.mark.parametrize(("attributes", "message"), [
    ('{"team": ', "This is not valid JSON: Expecting value (line 1, column 10)."),
    ('["ops"]', "Attributes must be a JSON object"),
    ('"ops"', "Attributes must be a JSON object"),
    ('{"x": NaN}', "NaN is not allowed in attributes"),
    ('{"x": 1e999}', "Attributes can only hold finite numbers."),
    ('{"x": "a\\u0000b"}', "Attributes cannot contain NUL characters"),
    ('{"x": ' + "[" * 30 + "]" * 30 + "}", "nested at most 20 levels deep"),
    ('{"x": "' + "a" * 30_000 + '"}', "Attributes can be at most 20,000 characters."),
])
def test_bad_attributes_are_refused_next_to_the_field_and_kept_for_fixing(
        app, admin_client, bob, attributes, message):
    response = post_form(admin_client, f"/directory/users/{bob}",
                         {"name": "Changed", "attributes": attributes})

    assert response.status_code == 200
    assert message in response.text
    assert 'id="attributes-errors"' in response.text
    assert str(escape(attributes)) in response.text
    with app.app_context():
        user = db.session.get(User, bob)
        assert (user.name, user.attributes) == ("Bob Builder", {})


def test_deeply_nested_json_under_the_size_limit_is_refused_not_crashed(app, admin_client, bob):
    attributes = '{"x": ' + "[" * 1500 + "]" * 1500 + "}"

    response = post_form(admin_client, f"/directory/users/{bob}", {"attributes": attributes})

    assert response.status_code == 200
    assert "nested" in response.text


def test_an_admin_sets_a_password_that_works_and_is_never_echoed_or_recorded(
        app, admin_client, bob):
    response = post_form(admin_client, f"/directory/users/{bob}/password",
                         {"new_password": "brand-new-secret-9"}, follow_redirects=True)

    assert "Set a new password for bob." in response.text
    assert "brand-new-secret-9" not in response.text
    with app.app_context():
        (event,) = events("password_set")
        assert event.user["username"] == "admin"
        assert (event.context["user"]["pk"], event.context["user"]["model_name"]) == (bob, "user")
        assert "brand-new-secret-9" not in json.dumps([e.context for e in events()])
        assert db.session.get(User, bob).check_password("brand-new-secret-9")


def test_a_short_password_is_refused_and_not_shown_again(app, admin_client, bob):
    response = post_form(admin_client, f"/directory/users/{bob}/password",
                         {"new_password": "short7!"})

    assert "Field must be between 8 and 1024 characters long." in response.text
    assert "short7!" not in response.text
    with app.app_context():
        assert db.session.get(User, bob).check_password("bob-password-123")
        assert events("password_set") == []


@pytest.mark.parametrize(("form", "message"), [
    ({"is_superuser": "y"}, "You cannot deactivate your own account"),
    ({"is_active": "y"}, "You cannot remove the superuser flag from your own account"),
])
def test_admins_cannot_deactivate_or_demote_themselves(app, admin_client, admin, form, message):
    response = post_form(admin_client, f"/directory/users/{admin}", {"name": "Me", **form})

    assert response.status_code == 200
    assert message in response.text
    with app.app_context():
        me = db.session.get(User, admin)
        assert (me.name, me.is_active, me.is_superuser) == ("", True, True)


def test_admins_cannot_delete_themselves(app, admin_client, admin):
    page = admin_client.get(f"/directory/users/{admin}/delete")
    forged = post_form(admin_client, f"/directory/users/{admin}/delete")

    assert "You cannot delete your own account" in page.text
    assert 'type="submit"' not in page.text.split('id="delete-refused"')[1]
    assert forged.status_code == 400
    assert "Delete user" not in admin_client.get(f"/directory/users/{admin}").text
    with app.app_context():
        assert db.session.get(User, admin) is not None


def test_deleting_a_user_asks_first_then_removes_them_and_their_tokens(app, admin_client, bob):
    with app.app_context():
        user = db.session.get(User, bob)
        make_token(user, identifier="bob-ci")
        ensure_admins_group(user)
        db.session.commit()

    question, answer = ask_then_confirm(admin_client, f"/directory/users/{bob}/delete")

    assert "Delete user “bob”?" in question
    assert "Their 1 API token(s) stop working" in question
    assert "Deleted user bob." in answer
    with app.app_context():
        assert db.session.get(User, bob) is None
        assert db.session.scalars(sa.select(Token)).all() == []


def test_the_user_page_shows_their_groups_and_ten_newest_events(app, admin_client, bob):
    with app.app_context():
        user = db.session.get(User, bob)
        ensure_admins_group(user)
        for number in range(12):
            record(f"visit_{number:02}", user=user, created=utcnow() + timedelta(seconds=number))
        db.session.commit()

    page = admin_client.get(f"/directory/users/{bob}").text

    events_table = page.split('id="user-events"')[1]
    assert ">admins</a>" in page.split('id="user-groups"')[1]
    assert events_table.count(">custom_visit_") == 10
    assert events_table.index("custom_visit_11") < events_table.index("custom_visit_02")
    assert "custom_visit_01" not in events_table


def test_unknown_users_are_404(admin_client):
    assert admin_client.get("/directory/users/999").status_code == 404
    assert admin_client.get("/directory/users/99999999999999999999").status_code == 404
