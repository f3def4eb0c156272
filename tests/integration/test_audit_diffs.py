"""Model change events: one per object per transaction, with diffs, secrets masked."""

from __future__ import annotations

import json

import pytest

from tests.factories import make_user
from tests.helpers import events
from webapp.core.extensions import db
from webapp.directory.accounts import create_token, ensure_admins_group
from webapp.events import acting_as
from webapp.events.audit import audit_suppressed
from webapp.events.sanitize import MASK
from webapp.models import Event, Group, Settings

pytestmark = pytest.mark.usefixtures("ctx")


def model_events(model_name: str) -> list[Event]:
    return [e for e in events() if e.action.startswith("model_")
            and e.context["model"]["model_name"] == model_name]


def test_creating_a_user_records_model_created_with_every_previous_value_null():
    user = make_user("dora", email="dora@example.com")

    (event,) = model_events("user")
    assert event.action == "model_created"
    assert event.context["model"] == {"pk": user.id, "app": "herald", "name": "dora",
                                      "model_name": "user"}
    diff = event.context["diff"]
    assert diff["email"] == {"previous_value": None, "new_value": "dora@example.com"}
    assert all(change["previous_value"] is None for key, change in diff.items()
               if key != "password_hash")


def test_a_password_hash_appears_only_masked():
    make_user("erin", password="erin-password-123")

    text = json.dumps([e.context for e in events()])
    assert "scrypt" not in text and "erin-password-123" not in text
    (event,) = model_events("user")
    assert event.context["diff"]["password_hash"] == MASK


def test_an_update_records_only_the_fields_that_changed():
    user = make_user("frank", email="old@example.com")
    user.email = "new@example.com"
    user.name = user.name  # assigned but unchanged
    db.session.commit()

    updated = [e for e in model_events("user") if e.action == "model_updated"]
    assert len(updated) == 1
    assert updated[0].context["diff"] == {
        "email": {"previous_value": "old@example.com", "new_value": "new@example.com"}}


def test_an_update_that_changes_nothing_records_nothing():
    user = make_user("gina")
    user.email = user.email
    db.session.commit()

    assert [e.action for e in model_events("user")] == ["model_created"]


def test_several_flushes_in_one_transaction_give_one_event_with_the_first_and_last_values():
    user = make_user("hank", email="a@example.com")
    user.email = "b@example.com"
    db.session.flush()
    user.email = "c@example.com"
    db.session.flush()
    user.name = "Hank"
    db.session.commit()

    (updated,) = [e for e in model_events("user") if e.action == "model_updated"]
    assert updated.context["diff"] == {
        "email": {"previous_value": "a@example.com", "new_value": "c@example.com"},
        "name": {"previous_value": "", "new_value": "Hank"},
    }


def test_a_change_reverted_within_the_transaction_records_nothing():
    user = make_user("ivy", email="ivy@example.com")
    user.email = "other@example.com"
    db.session.flush()
    user.email = "ivy@example.com"
    db.session.commit()

    assert [e.action for e in model_events("user")] == ["model_created"]


def test_a_json_attribute_changed_on_an_expired_instance_diffs_against_the_stored_value():
    user = make_user("jack", attributes={"team": "blue"})
    db.session.expire_all()
    user.attributes = {"team": "red", "level": 2}
    db.session.commit()

    (updated,) = [e for e in model_events("user") if e.action == "model_updated"]
    assert updated.context["diff"] == {"attributes": {
        "previous_value": {"team": "blue"}, "new_value": {"team": "red", "level": 2}}}


def test_deleting_records_model_deleted_without_a_diff():
    user = make_user("kim")
    pk = user.id
    db.session.delete(user)
    db.session.commit()

    (deleted,) = [e for e in model_events("user") if e.action == "model_deleted"]
    assert deleted.context["model"] == {"pk": pk, "app": "herald", "name": "kim",
                                        "model_name": "user"}
    assert "diff" not in deleted.context


def test_adding_a_member_is_told_on_the_group_from_either_side():
    user = make_user("lee")
    group = Group(name="ops")
    db.session.add(group)
    db.session.commit()

    group.users.append(user)
    db.session.commit()
    other = make_user("max")
    other.groups.append(group)
    db.session.commit()

    group_updates = [e for e in model_events("group") if e.action == "model_updated"]
    assert [e.context["diff"] for e in group_updates] == [
        {"users": {"add": [user.id]}}, {"users": {"add": [other.id]}}]


def test_removing_a_member_records_remove():
    user = make_user("ned")
    group = ensure_admins_group(user)
    db.session.commit()
    group.users.remove(user)
    db.session.commit()

    (update,) = [e for e in model_events("group") if e.action == "model_updated"]
    assert update.context["diff"] == {"users": {"remove": [user.id]}}


def test_a_token_key_hash_is_masked_and_last_used_is_not_audited():
    user = make_user("olga")
    token, key = create_token(user, identifier="olga-cli")
    db.session.commit()
    from webapp.core.db_types import utcnow
    token.last_used = utcnow()
    db.session.commit()

    token_events = model_events("token")
    assert [e.action for e in token_events] == ["model_created"]
    assert token_events[0].context["diff"]["key_hash"] == MASK
    assert key not in json.dumps([e.context for e in events()])


def test_settings_changes_are_audited():
    settings = Settings(id=1)
    db.session.add(settings)
    db.session.commit()
    settings.event_retention = "days=30"
    db.session.commit()

    (update,) = [e for e in model_events("settings") if e.action == "model_updated"]
    assert update.context["diff"] == {
        "event_retention": {"previous_value": "days=365", "new_value": "days=30"}}


def test_outside_a_request_the_actor_is_the_system_with_its_source():
    with acting_as(source="cli:test"):
        make_user("pia")

    (event,) = model_events("user")
    assert event.user["username"] == "system"
    assert event.context["source"] == "cli:test"


def test_another_actor_can_be_named():
    admin = make_user("root", superuser=True)
    with acting_as(admin):
        make_user("quinn")

    assert model_events("user")[-1].user == {"pk": admin.id, "username": "root",
                                             "email": "root@example.com"}


def test_audit_can_be_suppressed_for_bulk_maintenance():
    with audit_suppressed():
        make_user("rae")
    assert model_events("user") == []


def test_a_rolled_back_change_records_no_event():
    make_user("sam")
    user = make_user("tia")
    user.email = "changed@example.com"
    db.session.rollback()

    assert [e.context["model"]["name"] for e in model_events("user")] == ["sam", "tia"]


def test_events_themselves_are_never_audited():
    make_user("uma")
    assert all(e.context["model"]["model_name"] != "event"
               for e in events() if e.action.startswith("model_"))


def test_objects_are_referenced_by_their_identifying_name_and_pk():
    user = make_user("vic", name="Victoria Stone")
    db.session.add(Settings(id=1))
    db.session.commit()

    assert model_events("user")[0].context["model"]["name"] == "vic"
    assert model_events("settings")[0].context["model"] == {
        "pk": 1, "app": "herald", "name": "Settings", "model_name": "settings"}
    assert user.name == "Victoria Stone"


def test_every_audited_model_has_a_pk_in_its_reference():
    user = make_user("wes")
    create_token(user, identifier="wes-cli")
    ensure_admins_group(user)
    db.session.add(Settings(id=1))
    db.session.commit()

    assert all(e.context["model"]["pk"] is not None for e in events()
               if e.action.startswith("model_"))
