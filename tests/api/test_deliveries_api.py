"""events/deliveries/: Herald's delivery ledger, filtered and retried as the page does."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.factories import make_event, make_rule, make_transport
from tests.helpers import csrf_token
from webapp.core.extensions import db
from webapp.models import Delivery

URL = "/api/v3/events/deliveries/"


@pytest.fixture
def ledger(app):
    """A dead delivery through `hook` for an event and a sent one through `chat`."""
    with app.app_context():
        hook, chat = make_transport("hook"), make_transport("chat")
        rule, event = make_rule("logins"), make_event("login_failed")
        dead = Delivery(transport=hook, transport_name="hook", rule=rule,
                        event_id=event.event_uuid, severity="alert", body="Failed login",
                        status="dead", attempts=5, error="HTTP 500")
        sent = Delivery(transport=chat, transport_name="chat", severity="notice", body="Hi",
                        status="sent", attempts=1, last_status_code=200, latency_ms=12)
        db.session.add_all([dead, sent])
        db.session.commit()
        return {"dead": str(dead.key), "dead_id": dead.id, "sent": str(sent.key),
                "hook": str(hook.uuid), "chat_id": chat.id, "rule": str(rule.uuid),
                "event": str(event.event_uuid)}


def test_list_and_retrieve(client, admin_key, ledger):
    body = client.get(URL, headers=bearer(admin_key)).get_json()
    assert body["pagination"]["count"] == 2
    dead = next(item for item in body["results"] if item["pk"] == ledger["dead"])
    assert dead["transport"] == ledger["hook"] and dead["rule"] == ledger["rule"]
    assert dead["event"] == ledger["event"] and dead["created"].endswith("Z")
    assert client.get(f"{URL}{ledger['dead']}/", headers=bearer(admin_key)).get_json() == dead
    assert client.get(f"{URL}{ledger['dead_id']}/", headers=bearer(admin_key)).get_json() == dead


@pytest.mark.parametrize(("query", "expected"), [
    ("status=dead", ["dead"]), ("status=sent", ["sent"]), ("transport=HOOK", ["dead"]),
    ("transport=CHAT_ID", ["sent"]), ("rule=RULE", ["dead"]), ("event=EVENT", ["dead"]),
])
def test_filters(client, admin_key, ledger, query, expected):
    for name in ("hook", "chat_id", "rule", "event"):
        query = query.replace(name.upper(), str(ledger[name]))
    results = client.get(f"{URL}?{query}", headers=bearer(admin_key)).get_json()["results"]
    assert [item["pk"] for item in results] == [ledger[name] for name in expected]


@pytest.mark.parametrize("query", ["status=lost", "transport=999", "event=nope",
                                   "rule=00000000-0000-0000-0000-000000000009"])
def test_bad_filters_are_400(client, admin_key, ledger, query):
    response = client.get(f"{URL}?{query}", headers=bearer(admin_key))
    assert response.status_code == 400 and query.split("=")[0] in response.get_json()


def test_retry(client, admin_key, ledger):
    retried = client.post(f"{URL}{ledger['dead']}/retry/", headers=bearer(admin_key))
    assert retried.status_code == 200
    assert retried.get_json()["status"] == "queued" and retried.get_json()["attempts"] == 0
    refused = client.post(f"{URL}{ledger['sent']}/retry/", headers=bearer(admin_key))
    assert refused.status_code == 400 and "status" in refused.get_json()
    missing = client.post(f"{URL}00000000-0000-0000-0000-000000000009/retry/",
                          headers=bearer(admin_key))
    assert missing.status_code == 404
    assert client.get(f"{URL}not-a-key/", headers=bearer(admin_key)).status_code == 404


def test_regular_users_are_refused(client, user_key, ledger):
    assert client.get(URL, headers=bearer(user_key)).status_code == 403
    assert client.post(f"{URL}{ledger['dead']}/retry/",
                       headers=bearer(user_key)).status_code == 403


def test_browser_session_needs_csrf(admin_client, ledger):
    assert admin_client.post(f"{URL}{ledger['dead']}/retry/").status_code == 400
    assert admin_client.post(f"{URL}{ledger['dead']}/retry/", headers={
        "X-CSRFToken": csrf_token(admin_client)}).status_code == 200
