"""Directory > Groups: the list, creating and editing (a tree without cycles), members, deleting."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.factories import make_user
from tests.helpers import post_form
from tests.integration.directory_helpers import ask_then_confirm, stored
from webapp.core.extensions import db
from webapp.directory.groups import GroupError, create_group, update_group
from webapp.models import Group, User

HTMX = {"HX-Request": "true"}


def make_group(name: str, parent: Group | None = None, members: tuple[User, ...] = ()) -> Group:
    group = create_group(name=name, parent=parent, is_superuser=False)
    group.users.extend(members)
    db.session.commit()
    return group


def picker_options(client, page: str, field: str) -> list[str]:
    """The labels the field's picker offers before anything is typed."""
    source = re.search(rf'data-picker-source="([^"]+)"[^>]*>\s*<input[^>]*id="{field}"',
                       page).group(1).replace("&amp;", "&")
    return re.findall(r'data-label="([^"]*)"', client.get(source).text)


@pytest.fixture
def tree(app):
    """ops > ops-eu > ops-eu-west, and a separate group sales."""
    with app.app_context():
        ops = make_group("ops")
        eu = make_group("ops-eu", parent=ops)
        make_group("ops-eu-west", parent=eu)
        make_group("sales")
        return {name: stored(Group, name=name).num_pk for name in ("ops", "ops-eu", "ops-eu-west",
                                                            "sales")}


@pytest.fixture
def bob_in_ops(app, tree):
    """bob, already a member of ops: his id."""
    with app.app_context():
        bob, ops = make_user("bob"), stored(Group, name="ops")
        ops.users.append(bob)
        db.session.commit()
        return bob.id


def test_the_list_shows_groups_with_parent_and_member_count(app, admin_client, tree):
    with app.app_context():
        make_group("marketing", members=(make_user("sam"),))

    table = admin_client.get("/directory/groups").text.split('id="group-table"')[1]

    rows = {re.search(r">([^<]+)</a>", row).group(1): row for row in table.split("<tr>")[2:]}
    assert re.search(r"<td><a [^>]+>ops</a>", rows["ops-eu"])
    assert "<td>1</td>" in rows["marketing"] and "<td>0</td>" in rows["sales"]


def test_no_groups_shows_an_empty_state_with_a_way_forward(admin_client):
    page = admin_client.get("/directory/groups").text

    assert "No groups yet." in page
    assert 'href="/directory/groups/new"' in page


def test_regular_users_cannot_manage_groups(user_client, tree):
    assert user_client.get("/directory/groups").status_code == 403
    assert post_form(user_client, f"/directory/groups/{tree['ops']}/members",
                     {"user_id": "1"}).status_code == 403


def test_creating_a_group_below_a_parent(app, admin_client, tree):
    response = post_form(admin_client, "/directory/groups/new", {
        "name": "support", "parent_id": str(tree["ops"]), "is_superuser": "y",
        "attributes": '{"pager": true}'})

    with app.app_context():
        support = stored(Group, name="support")
        assert response.headers["Location"] == f"/directory/groups/{support.num_pk}"
        assert (support.parent.name, support.is_superuser, support.attributes) == \
            ("ops", True, {"pager": True})
    assert "Created group support." in admin_client.get(response.headers["Location"]).text


@pytest.mark.parametrize(("form", "message"), [
    ({"name": "OPS"}, "A group named &#39;OPS&#39; already exists."),
    ({"name": ""}, "This field is required."),
    ({"name": "g" * 151}, "Field cannot be longer than 150 characters."),
    ({"name": "new", "attributes": "[1, 2]"}, "Attributes must be a JSON object"),
    ({"name": "new", "parent_id": "abc"}, "Choose a group from the list."),
    ({"name": "new", "parent_id": "99999999999999999999"}, "Choose a group from the list."),
])
def test_invalid_groups_are_refused_next_to_the_field(app, admin_client, tree, form, message):
    response = post_form(admin_client, "/directory/groups/new", form)

    assert response.status_code == 200
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Group.num_pk))) == 4


def test_the_parent_picker_leaves_out_the_group_itself_and_its_descendants(admin_client, tree):
    page = admin_client.get(f"/directory/groups/{tree['ops-eu']}").text

    assert picker_options(admin_client, page, "parent_id") == ["ops", "sales"]


@pytest.mark.parametrize("new_parent", ["ops-eu-west", "ops-eu"])
def test_a_parent_that_would_make_a_cycle_is_refused(app, admin_client, tree, new_parent):
    response = post_form(admin_client, f"/directory/groups/{tree['ops-eu']}",
                         {"name": "ops-eu", "parent_id": str(tree[new_parent])})

    assert "that would make a cycle" in response.text
    with app.app_context():
        assert stored(Group, name="ops-eu").parent.name == "ops"


def test_the_service_refuses_cycles_too(app, tree):
    with app.app_context():
        ops, west = stored(Group, name="ops"), stored(Group, name="ops-eu-west")
        with pytest.raises(GroupError, match="would create a cycle"):
            update_group(ops, name="ops", parent=west, is_superuser=False, attributes={})


def test_editing_renames_moves_and_can_detach_a_group(app, admin_client, tree):
    response = post_form(admin_client, f"/directory/groups/{tree['ops-eu']}",
                         {"name": "europe", "parent_id": "0", "attributes": '{"region": "eu"}'})

    assert response.status_code == 302
    with app.app_context():
        europe = stored(Group, name="europe")
        assert (europe.parent, europe.attributes) == (None, {"region": "eu"})
        assert [child.name for child in europe.children] == ["ops-eu-west"]
    assert "Saved the changes to europe." in admin_client.get(response.headers["Location"]).text


def test_keeping_the_own_name_is_not_a_duplicate(admin_client, tree):
    response = post_form(admin_client, f"/directory/groups/{tree['sales']}", {"name": "sales"})

    assert response.status_code == 302


def test_adding_a_member_offers_only_non_members_and_adds_them(app, admin_client, admin, tree):
    with app.app_context():
        bob_id = make_user("bob").id
        ops = stored(Group, name="ops")
        ops.users.append(db.session.get(User, admin))
        db.session.commit()
    page = admin_client.get(f"/directory/groups/{tree['ops']}").text
    offered = picker_options(admin_client, page, "user_id")

    response = post_form(admin_client, f"/directory/groups/{tree['ops']}/members",
                         {"user_id": str(bob_id)}, follow_redirects=True)

    assert offered == ["bob"]
    assert "Added bob to ops." in response.text
    with app.app_context():
        assert [user.username for user in stored(Group, name="ops").users] == ["admin", "bob"]


def test_htmx_member_changes_answer_with_the_member_card(app, admin_client, tree):
    with app.app_context():
        bob_id = make_user("bob").id
    url = f"/directory/groups/{tree['ops']}/members"

    added = post_form(admin_client, url, {"user_id": str(bob_id)}, headers=HTMX)
    removed = post_form(admin_client, f"{url}/{bob_id}/remove", headers=HTMX)

    assert added.status_code == 200
    assert added.text.lstrip().startswith('<section class="card" id="group-members"')
    assert "Added bob to ops." in added.text
    assert 'aria-label="Remove bob"' in added.text
    assert "Removed bob from ops." in removed.text
    assert "No members yet." in removed.text
    with app.app_context():
        assert stored(Group, name="ops").users == []


def test_adding_someone_who_already_is_a_member_is_refused(app, admin_client, tree, bob_in_ops):
    response = post_form(admin_client, f"/directory/groups/{tree['ops']}/members",
                         {"user_id": str(bob_in_ops)}, headers=HTMX)

    assert "bob already is a member." in response.text
    with app.app_context():
        assert len(stored(Group, name="ops").users) == 1


def test_removing_without_htmx_goes_back_to_the_group_page(admin_client, tree, bob_in_ops):
    response = post_form(admin_client,
                         f"/directory/groups/{tree['ops']}/members/{bob_in_ops}/remove")

    assert response.headers["Location"] == f"/directory/groups/{tree['ops']}"
    assert "Removed bob from ops." in admin_client.get(response.headers["Location"]).text


def test_member_changes_need_the_csrf_token(app, admin_client, tree):
    with app.app_context():
        bob_id = make_user("bob").id

    response = admin_client.post(f"/directory/groups/{tree['ops']}/members",
                                 data={"user_id": str(bob_id)})

    assert response.status_code == 400
    with app.app_context():
        assert stored(Group, name="ops").users == []


def test_deleting_a_group_asks_first_and_moves_its_subgroups_up(app, admin_client, tree):
    question, answer = ask_then_confirm(admin_client, f"/directory/groups/{tree['ops']}/delete")

    assert "Delete group “ops”?" in question
    assert "Its 1 subgroup(s) move to the top level." in question
    assert "Deleted group ops." in answer
    with app.app_context():
        assert stored(Group, name="ops") is None
        assert stored(Group, name="ops-eu").parent is None


def test_unknown_groups_are_404(admin_client):
    assert admin_client.get("/directory/groups/12345").status_code == 404
    assert admin_client.get("/directory/groups/99999999999999999999/delete").status_code == 404
