"""What a notification says about an event: the message, else a sentence, else compact JSON."""

from __future__ import annotations

from webapp.events.summaries import LIMIT, summarize
from webapp.models import Event


def event(action: str, context: dict, *, username: str = "alice",
          client_ip: str | None = None) -> Event:
    return Event(action=action, context=context, user={"username": username, "pk": 1},
                 client_ip=client_ip)


def test_a_message_in_the_context_is_the_summary():
    assert summarize(event("custom_deploy", {"message": "Deployed v2"})) == "Deployed v2"


def test_a_failed_sign_in_names_the_account_tried_and_the_address():
    failed = event("login_failed", {"username": "root"}, username="AnonymousUser",
                   client_ip="203.0.113.9")
    assert summarize(failed) == "Failed sign-in as “root” from 203.0.113.9"


def test_a_model_change_names_who_changed_which_object():
    changed = event("model_updated", {"model": {"model_name": "group", "name": "ops", "pk": 3}})
    assert summarize(changed) == "alice updated group “ops”"


def test_an_action_without_a_phrase_shows_its_context_as_json_not_a_python_dict():
    assert summarize(event("custom_backup", {"ok": True, "size": None})) == (
        'custom_backup: {"ok": true, "size": null}')


def test_a_long_summary_is_cut_short():
    text = summarize(event("custom_dump", {"blob": "x" * 5000}))
    assert len(text) == LIMIT and text.endswith("…")
