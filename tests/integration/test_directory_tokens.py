"""Directory > Tokens: the list never shows keys, a new key is shown once, revoking."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_token, make_user
from tests.helpers import post_form
from tests.integration.directory_helpers import ask_then_confirm, stored
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Token

KEY_INPUT = re.compile(r'id="token-key" type="text" value="([^"]+)"')


@pytest.fixture
def bob(app):
    with app.app_context():
        return make_user("bob").id


def test_the_list_shows_token_details_and_only_the_key_prefix(app, admin_client, bob):
    with app.app_context():
        token, key = make_token(make_user("carol"), identifier="carol-ci", description="CI",
                                expires=utcnow() - timedelta(days=1))
        token.last_used = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        db.session.commit()

    page = admin_client.get("/directory/tokens").text

    assert "carol-ci" in page and ">carol</a>" in page and "CI" in page
    assert f"<code>{key[:8]}…</code>" in page
    assert key not in page
    assert 'badge text-bg-danger">expired' in page
    assert "2030-01-02 03:04:05 UTC" in page


def test_no_tokens_shows_an_empty_state(admin_client):
    assert "No API tokens yet." in admin_client.get("/directory/tokens").text


def test_regular_users_cannot_list_or_create_tokens(user_client, bob):
    assert user_client.get("/directory/tokens").status_code == 403
    response = post_form(user_client, "/directory/tokens/new",
                         {"user_id": str(bob), "identifier": "sneaky"})
    assert response.status_code == 403


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(app, admin_client, bob):
    response = post_form(admin_client, "/directory/tokens/new", {
        "user_id": str(bob), "identifier": "bob-ci", "description": "Deploys"})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    key = KEY_INPUT.search(response.text).group(1)
    assert len(key) >= 40
    assert 'data-copy-target="#token-key"' in response.text
    with app.app_context():
        token = stored(Token, identifier="bob-ci")
        assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert (token.key_prefix, token.user_id, token.description) == (key[:8], bob, "Deploys")
        assert token.expires is None
        row = db.session.execute(sa.select(Token.__table__)).one()
        assert key not in [str(value) for value in row]
    for url in ("/directory/tokens", f"/directory/tokens/{token.id}/delete",
                f"/directory/users/{bob}"):
        assert key not in admin_client.get(url).text


def test_an_expiry_in_the_future_is_stored_as_utc(app, admin_client, bob):
    post_form(admin_client, "/directory/tokens/new", {
        "user_id": str(bob), "identifier": "short-lived", "expires": "2099-05-06T07:08"})

    with app.app_context():
        expires = stored(Token, identifier="short-lived").expires
        assert expires == datetime(2099, 5, 6, 7, 8, tzinfo=UTC)


@pytest.mark.parametrize(("form", "message"), [
    ({"identifier": "taken"}, "A token named &#39;taken&#39; already exists."),
    ({"identifier": "has spaces"}, "Use letters, digits, &#39;.&#39;, &#39;_&#39; and &#39;-&#39;"),
    ({"identifier": "-leading"}, "starting with a letter or digit"),
    ({"identifier": ""}, "This field is required."),
    ({"identifier": "x" * 256}, "Field cannot be longer than 255 characters."),
    ({"identifier": "ok", "description": "d" * 501},
     "Field cannot be longer than 500 characters."),
    ({"identifier": "ok", "expires": "2001-01-01T00:00"}, "The expiry must be in the future."),
    ({"identifier": "ok", "expires": "tomorrow"}, "Not a valid datetime value."),
    ({"identifier": "ok", "user_id": "12345"}, "Choose a user from the list."),
    ({"identifier": "ok", "user_id": "99999999999999999999"}, "Choose a user from the list."),
    ({"identifier": "ok", "user_id": "bob"}, "Choose a user from the list."),
])
def test_invalid_tokens_are_refused_next_to_the_field(app, admin_client, bob, form, message):
    with app.app_context():
        make_token(make_user("carol"), identifier="taken")

    response = post_form(admin_client, "/directory/tokens/new", {"user_id": str(bob), **form})

    assert response.status_code == 200
    assert message in response.text
    assert 'id="token-key"' not in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Token.id))) == 1


def test_revoking_asks_first_then_deletes_the_token(app, admin_client, bob):
    with app.app_context():
        token_id = make_token(make_user("carol"), identifier="carol-ci")[0].id

    question, answer = ask_then_confirm(admin_client, f"/directory/tokens/{token_id}/delete")

    assert "Revoke token “carol-ci”?" in question
    assert 'value="Revoke token"' in question
    assert "Revoked token carol-ci." in answer
    with app.app_context():
        assert stored(Token, identifier="carol-ci") is None


def test_revoking_an_unknown_token_is_404(admin_client):
    assert post_form(admin_client, "/directory/tokens/777/delete").status_code == 404
