"""Events > Logs and an event's page, read by an administrator."""

from __future__ import annotations

from tests.factories import make_event

LONDON = {"continent": "EU", "country": "GB", "lat": 51.5, "long": -0.12, "city": "London"}
ASN = {"asn": 15169, "as_org": "Google LLC", "network": "81.2.69.0/24"}


def _geo_event(app):
    with app.app_context():
        return make_event("login", geo=LONDON, asn=ASN).pk


def test_rows_show_the_city_and_country_of_the_client(app, admin_client):
    _geo_event(app)
    page = admin_client.get("/events/").text
    assert 'title="Country">GB</span>' in page and "London" in page


def test_an_events_page_shows_location_network_and_raw_json(app, admin_client):
    event_id = _geo_event(app)
    page = admin_client.get(f"/events/{event_id}").text
    assert "London, GB, EU" in page
    assert "AS15169 Google LLC" in page and "81.2.69.0/24" in page
    assert f"&#34;pk&#34;: &#34;{event_id}&#34;" in page  # the raw JSON, HTML-escaped


def test_paging_walks_older_events_with_a_cursor(app, admin_client):
    app.config["PAGE_SIZE"] = 2
    with app.app_context():
        for n in range(5):
            make_event("custom_step", step=n)
    first = admin_client.get("/events/?action=custom_step").text
    assert first.count('class="herald-event-row') == 2
    older = first.split('id="older-events"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = admin_client.get(older.replace("&amp;", "&")).text
    assert second.count('class="herald-event-row') == 2
    assert "Newest" in second


def test_a_broken_cursor_shows_a_message_and_the_newest_events(app, admin_client):
    with app.app_context():
        make_event("login")
    response = admin_client.get("/events/?before=garbage_zzz")
    assert response.status_code == 200
    assert "not valid any more" in response.text
    assert "login</span>" in response.text


def test_an_htmx_filter_request_gets_only_the_table(admin_client):
    response = admin_client.get("/events/?action=login", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="event-results">')
    assert "HX-Request" in response.headers["Vary"]


def test_oversized_filters_are_cut_not_failed(admin_client):
    response = admin_client.get("/events/?username=" + "x" * 5000 + "&action=" + "y" * 5000)
    assert response.status_code == 200
    assert "No events match." in response.text


def test_a_failed_sign_in_says_whom_it_tried(app, admin_client):
    with app.app_context():
        event_id = make_event("login_failed", username="mallory").pk
    page = admin_client.get(f"/events/{event_id}").text
    assert "Attempted to sign in as <strong>mallory</strong>" in page


def test_an_exception_shows_its_traceback_as_text(app, admin_client):
    with app.app_context():
        event_id = make_event("system_exception", message="boom",
                              exception="Traceback (most recent call last):\n  x\nValueError").pk
    page = admin_client.get(f"/events/{event_id}").text
    expected = "Traceback (most recent call last):\n  x\nValueError"
    assert f'id="event-traceback"><code>{expected}' in page


def test_a_model_change_row_names_the_object_it_changed(app, admin_client):
    admin_client.get("/settings/")  # creates the settings row: a model_created event
    page = admin_client.get("/events/?action=model_created").text
    assert "settings <strong>Settings</strong>" in page
