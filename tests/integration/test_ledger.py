"""Events > Deliveries: the ledger's filters, status counts, paging and Retry, and the event
page's link to its deliveries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_event, make_rule, make_transport, make_user
from tests.helpers import csrf_token, post_form
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Delivery, Event, NotificationRule, NotificationTransport
from webapp.notifications import ledger

URL = "/events/deliveries/"
HTMX = {"HX-Request": "true"}


@dataclass
class Ledger:
    """Ids of what the ledger holds: two transports, two rules, one event, and one delivery
    per status (hook/first unless said otherwise)."""

    hook: NotificationTransport
    chat: NotificationTransport
    first: NotificationRule
    second: NotificationRule
    event: Event
    ids: dict[str, int]


def _delivery(transport: NotificationTransport, rule: NotificationRule, status: str, *,
              event: Event | None = None, created: datetime | None = None, **fields) -> int:
    delivery = Delivery(transport=transport, transport_name=transport.name, rule=rule,
                        event_id=event.event_uuid if event else None, severity="alert",
                        body=f"{status} message", status=status, created=created or utcnow(),
                        **fields)
    db.session.add(delivery)
    db.session.commit()
    return delivery.id


@pytest.fixture
def data(ctx) -> Ledger:
    hook, chat = make_transport("hook", webhook_url="http://127.0.0.1:9/hook"), \
        make_transport("chat", "webhook_slack", webhook_url="http://127.0.0.1:9/chat")
    first, second = make_rule("first"), make_rule("second")
    event = make_event("login_failed", message="Bad password for alice")
    now = utcnow()
    ids = {
        "sent": _delivery(hook, first, "sent", event=event, created=now - timedelta(days=3),
                          attempts=1, last_status_code=200, latency_ms=12,
                          response_excerpt="ok", next_attempt_at=None),
        "queued": _delivery(hook, first, "queued", created=now - timedelta(days=2)),
        "sending": _delivery(chat, second, "sending", attempts=1,
                             created=now - timedelta(days=1)),
        "failed": _delivery(hook, first, "failed", event=event, attempts=2,
                            last_status_code=500, latency_ms=40, response_excerpt="down",
                            error="The receiver answered HTTP 500.",
                            next_attempt_at=now + timedelta(minutes=2)),
        "dead": _delivery(chat, second, "dead", attempts=5, error="Connection refused",
                          next_attempt_at=None),
    }
    return Ledger(hook, chat, first, second, event, ids)


def _statuses(**args) -> list[str]:
    """The statuses of the page the filter shows, in order (newest first)."""
    parsed = ledger.parse_filter(_args(args))
    assert not parsed.errors, parsed.errors
    return [d.status for d in ledger.delivery_page(parsed.filter, None, 50).deliveries]


def _args(args: dict) -> dict[str, str]:
    return {name: str(value) for name, value in args.items()}


def _status_of(delivery_id: int) -> tuple[str, int]:
    db.session.expire_all()
    delivery = db.session.get(Delivery, delivery_id)
    return delivery.status, delivery.attempts


def test_the_ledger_shows_each_delivery_with_its_outcome(admin_client, data):
    page = admin_client.get(URL)
    assert page.status_code == 200
    text = page.text
    for words in ("Failed, will retry", "Dead, gave up", "Sent", "Queued", "Sending",
                  "HTTP 500", "The receiver answered HTTP 500.", "Connection refused",
                  "40 ms", "HTTP 200", "hook", "chat", "first", "second"):
        assert words in text, words
    rows = re.findall(r'id="delivery-(\d+)" data-status', text)
    assert [int(row) for row in rows] == sorted(data.ids.values(), reverse=True)
    assert f'href="/events/{data.event.pk}"' in text
    assert "Retry all 2 failed/dead" in text


def test_each_status_tab_counts_under_the_other_filters(admin_client, data):
    counts = ledger.status_counts(ledger.parse_filter({"transport": str(data.hook.id)}).filter)
    assert counts.by_status == {"queued": 1, "sending": 0, "sent": 1, "failed": 1, "dead": 0}
    assert (counts.total, counts.retryable, counts.in_flight) == (3, 1, True)
    on_dead = ledger.status_counts(ledger.parse_filter({"status": "dead"}).filter)
    assert (on_dead.total, on_dead.retryable, on_dead.in_flight) == (5, 1, False)

    tabs = admin_client.get(URL, query_string={"transport": data.hook.id, "status": "sent"}).text
    assert re.search(r'aria-current="page"[^>]*>\s*<i[^>]*></i> Sent\s*<span[^>]*>1</span>',
                     tabs)
    assert re.search(r"All\s*<span[^>]*>3</span>", tabs)


@pytest.mark.parametrize(("args", "expected"), [
    ({"status": "failed"}, ["failed"]),
    ({"status": "dead"}, ["dead"]),
    ({"transport": "chat"}, ["dead", "sending"]),
    ({"rule": "first"}, ["failed", "queued", "sent"]),
    ({"rule": "first", "status": "queued"}, ["queued"]),
    ({"event": "event"}, ["failed", "sent"]),
    ({"since": "days_ago:1.5"}, ["dead", "failed", "sending"]),
    ({"until": "days_ago:1.5"}, ["queued", "sent"]),
])
def test_filters_narrow_the_ledger(data, args, expected):
    assert _statuses(**_resolve(data, args)) == expected


def test_transports_and_rules_are_found_by_uuid_too(data):
    assert _statuses(transport=data.chat.uuid, rule=data.second.uuid) == ["dead", "sending"]


def _resolve(data: Ledger, args: dict) -> dict:
    """Names in the parametrized cases stand for the fixture's ids and relative times."""
    names = {"chat": data.chat.id, "first": data.first.id, "event": data.event.pk}
    resolved = {}
    for name, value in args.items():
        if value.startswith("days_ago:"):
            moment = utcnow() - timedelta(days=float(value.partition(":")[2]))
            value = moment.strftime("%Y-%m-%dT%H:%M")
        resolved[name] = names.get(value, value)
    return resolved


@pytest.mark.parametrize(("name", "value", "message"), [
    ("status", "lost", "Pick a status"),
    ("transport", "999999", "No transport has the id"),
    ("transport", "not-a-transport", "No transport has the id"),
    ("transport", "9" * 40, "No transport has the id"),
    ("rule", "0d6c3f0e-0000-4000-8000-000000000000", "No notification rule has the id"),
    ("event", "1234", "is not an event id"),
    ("since", "2026-13-45", "is not a valid date"),
    ("until", "yesterday", "is not a valid date"),
])
def test_a_bad_filter_value_gets_a_400_naming_its_field(admin_client, data, name, value,
                                                          message):
    page = admin_client.get(URL, query_string={name: value})
    assert page.status_code == 400
    assert re.search(rf'id="filter-error-{name}"[^>]*>[^<]*{message}', page.text), page.text
    field = f'id="filter-{name}" aria-describedby="filter-error-{name}" aria-invalid="true"'
    assert field in page.text or name == "status"  # the status is a tab, not a field

    fragment = admin_client.get(URL, query_string={name: value}, headers=HTMX)
    assert fragment.status_code == 200 and fragment.headers["HX-Reswap"] == "none"
    assert message in fragment.text and "delivery-table" not in fragment.text


def test_a_range_that_runs_backwards_and_a_bad_page_link_are_explained(admin_client, data):
    backwards = admin_client.get(URL, query_string={"since": "2026-05-02", "until": "2026-05-01"})
    assert backwards.status_code == 400 and "must be later than" in backwards.text
    stale = admin_client.get(URL, query_string={"before": "yesterday"})
    assert stale.status_code == 200 and "That page link is not valid any more" in stale.text


def test_pages_go_back_in_time_with_a_cursor(app, admin_client, data):
    app.config["PAGE_SIZE"] = 2
    newest = ledger.delivery_page(ledger.DeliveryFilter(), None, 2)
    older = ledger.delivery_page(ledger.DeliveryFilter(), newest.next_cursor, 2)
    oldest = ledger.delivery_page(ledger.DeliveryFilter(), older.next_cursor, 2)
    pages = [[d.status for d in page.deliveries] for page in (newest, older, oldest)]
    assert pages == [["dead", "failed"], ["sending", "queued"], ["sent"]]
    assert oldest.next_cursor is None

    page = admin_client.get(URL, query_string={"transport": data.hook.id})
    assert re.search(r'href="/events/deliveries/\?transport=\d+&amp;before=\d+" id="older',
                     page.text)


def test_retry_queues_a_failed_or_dead_delivery_and_leaves_the_others(admin_client, data):
    for status in ("sent", "queued", "sending"):
        answer = post_form(admin_client, f"{URL}retry", {"retry": data.ids[status]},
                           follow_redirects=True)
        assert "Nothing to retry" in answer.text
        assert _status_of(data.ids[status])[0] == status

    answer = post_form(admin_client, f"{URL}retry", {"retry": data.ids["dead"]})
    assert answer.status_code == 303 and answer.location.startswith(URL)
    assert _status_of(data.ids["dead"]) == ("queued", 0)
    assert "Queued 1 delivery again" in admin_client.get(answer.location).text


def test_retry_selected_only_touches_the_failed_and_dead_ones(admin_client, data):
    everything = list(data.ids.values())
    answer = admin_client.post(f"{URL}retry", headers=HTMX, data={
        "retry": "selected", "ids": everything, "csrf_token": csrf_token(admin_client)})
    assert answer.status_code == 200
    assert "Queued 2 deliveries again" in answer.text and 'id="delivery-results"' in answer.text
    assert {status: _status_of(i)[0] for status, i in data.ids.items()} == {
        "sent": "sent", "queued": "queued", "sending": "sending", "failed": "queued",
        "dead": "queued"}


def test_retry_selected_with_nothing_checked_says_so(admin_client, data):
    answer = post_form(admin_client, f"{URL}retry", {"retry": "selected"}, headers=HTMX)
    assert "Check the failed or dead deliveries to retry first" in answer.text


def test_retry_all_respects_the_filter(admin_client, data):
    also_failed = _delivery(data.chat, data.second, "failed", attempts=1)
    answer = post_form(admin_client, f"{URL}retry",
                       {"retry": "matching", "transport": data.chat.id}, headers=HTMX)
    assert "Queued 2 deliveries again" in answer.text
    assert _status_of(also_failed)[0] == _status_of(data.ids["dead"])[0] == "queued"
    assert _status_of(data.ids["failed"])[0] == "failed"


def test_retry_all_with_a_status_tab_retries_only_that_status(data):
    queued = ledger.retry_matching(ledger.parse_filter({"status": "dead"}).filter)
    db.session.commit()
    assert queued == 1 and _status_of(data.ids["failed"])[0] == "failed"


@pytest.mark.parametrize("form", [
    {"retry": "matching", "transport": "no-such-transport"},
    {"retry": "matching", "since": "not a date"},
    {"retry": "selected", "ids": ["1", "two"]},
    {"retry": "'; DROP TABLE notification_deliveries; --"},
])
def test_retry_with_a_bad_form_is_a_400_and_changes_nothing(admin_client, data, form):
    answer = post_form(admin_client, f"{URL}retry", form)
    assert answer.status_code == 400
    assert _status_of(data.ids["failed"])[0] == "failed"
    assert _status_of(data.ids["dead"])[0] == "dead"


def test_retry_needs_the_csrf_token(admin_client, data):
    answer = admin_client.post(f"{URL}retry", data={"retry": "matching"})
    assert answer.status_code == 400
    assert _status_of(data.ids["failed"])[0] == "failed"


def test_the_ledger_is_for_administrators(user_client, data):
    assert user_client.get(URL).status_code == 403
    assert post_form(user_client, f"{URL}retry", {"retry": "matching"}).status_code == 403
    assert _status_of(data.ids["dead"])[0] == "dead"


def test_the_event_page_links_to_its_deliveries(admin_client, data):
    page = admin_client.get(f"/events/{data.event.pk}").text
    assert re.search(rf'href="/events/deliveries/\?event={data.event.pk}">.*Deliveries \(2\)',
                     page)
    quiet = make_event("login", username="bob")
    assert "Deliveries (" not in admin_client.get(f"/events/{quiet.pk}").text


def test_the_page_refreshes_only_while_deliveries_are_in_flight(admin_client, data):
    assert "data-poll" in admin_client.get(URL).text
    assert "data-poll" not in admin_client.get(URL, query_string={"status": "sent"}).text
    assert "data-poll" in admin_client.get(URL, query_string={"status": "failed"}).text


def test_a_deleted_transport_keeps_its_name_in_the_ledger(admin_client, data):
    db.session.execute(sa.delete(NotificationTransport).where(
        NotificationTransport.id == data.chat.id))
    db.session.commit()
    assert "chat (deleted)" in admin_client.get(URL).text


def test_an_empty_ledger_explains_where_deliveries_come_from(admin_client, ctx):
    make_user("carol")
    page = admin_client.get(URL)
    assert page.status_code == 200 and "No deliveries yet" in page.text


def test_a_filter_change_pushes_the_clean_url_and_a_refresh_pushes_nothing(admin_client, data):
    args = {"transport": data.chat.id, "rule": "", "since": "", "status": "dead"}
    changed = admin_client.get(URL, query_string=args, headers=HTMX)
    assert changed.headers["HX-Push-Url"] == f"{URL}?status=dead&transport={data.chat.id}"
    refreshed = admin_client.get(URL, query_string=args,
                                 headers={**HTMX, "HX-Trigger": "delivery-results"})
    assert "HX-Push-Url" not in refreshed.headers and 'id="delivery-results"' in refreshed.text
