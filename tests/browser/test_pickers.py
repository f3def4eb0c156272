"""The user picker among 100,000 users, used from the keyboard alone (how quickly it answers
is measured in bench/bench_pickers.py)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import BLOCKING, readable, run_axe
from tests.conftest import ADMIN_PASSWORD
from tests.factories import insert_users, make_user
from webapp.core.extensions import db
from webapp.models import Token, User

CROWD = 100_000


@pytest.fixture
def crowd(app, admin) -> None:
    with app.app_context():
        insert_users(CROWD)
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == CROWD + 1


def test_a_token_owner_is_chosen_among_100000_users_with_the_keyboard_alone(
        app, page: Page, crowd):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/directory/tokens/new")
    box = page.get_by_role("combobox", name="User")
    listbox = page.get_by_role("listbox", name="User: matches")

    box.focus()
    page.keyboard.type("user09999")
    expect(listbox.get_by_role("option")).to_have_count(10)
    expect(box).to_have_attribute("aria-expanded", "true")
    violations = [v for v in run_axe(page) if v["impact"] in BLOCKING]
    assert not violations, readable({"the open user picker": violations})
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", re.compile(r"-2$"))
    expect(listbox.get_by_role("option", selected=True)).to_have_attribute("data-label",
                                                                           "user099992")
    page.keyboard.press("Enter")  # chooses; does not submit the form

    expect(box).to_have_value("user099992")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Tab")
    page.keyboard.type("ci-099992")  # the Identifier field
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Token created")).to_be_visible()
    with app.app_context():
        token = db.session.scalar(sa.select(Token).where(Token.identifier == "ci-099992"))
        assert token.user.username == "user099992"


def test_escape_closes_the_matches_then_empties_the_box(page: Page, crowd):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/directory/tokens/new")
    box = page.get_by_role("combobox", name="User")
    box.focus()
    page.keyboard.type("person 77")
    expect(page.get_by_role("listbox", name="User: matches")).to_be_visible()

    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox", name="User: matches")).to_be_hidden()
    expect(box).to_have_value("person 77")
    page.keyboard.press("Escape")
    expect(box).to_have_value("")


def test_what_was_typed_before_the_picker_script_ran_is_searched_when_it_runs(
        app, page: Page, admin):
    with app.app_context():
        make_user("zed")
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.wait_for_url(re.compile(r"/overview$"))
    held = []
    page.route("**/static/js/picker.js", lambda route: held.append(route))  # held back

    page.goto("/directory/tokens/new", wait_until="commit")
    page.get_by_role("combobox", name="User").fill("ze")
    while not held:  # the page asked for the script before its body was parsed
        page.wait_for_timeout(50)
    held[0].continue_()

    expect(page.get_by_role("listbox", name="User: matches").get_by_role("option")
           ).to_have_attribute("data-label", "zed")
