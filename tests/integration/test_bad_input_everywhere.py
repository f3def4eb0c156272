"""Bad input anywhere gets a clear answer, never a crash, and never costs what is stored.

Nothing here lists pages or fields by hand: the routes come from `app.url_map` and the fields
from the forms the pages render, so a new route or a new field is attacked as soon as it exists.

- Every page takes malformed query strings: huge, negative, overflowing and non-numeric page
  numbers, repeated keys, unicode, markup, undecodable percent-escapes and odd paging cursors.
- Every path parameter that names nothing (0, -1, 2**64, words, emoji, NUL, 10,000 characters)
  is a 404.
- Every form field, one at a time and all together, takes empty, huge, JSON-breaking, unicode,
  markup, numeric-edge and calendar-edge values, repeated keys, or is left out; so does the
  sign-in form of an anonymous visitor.

No answer is a 500 or shows a stack trace, a password hash or unescaped markup that was sent.
Afterwards the administrator still exists and can sign in, nothing failed quietly, and no event
holds a password or a password hash.

Inputs that once crashed Herald stay as exact regressions in FORMER_CRASHES.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_event, make_token
from tests.helpers import csrf_token, events, login, post_form
from webapp.core.extensions import db
from webapp.directory.accounts import create_user
from webapp.directory.groups import add_member, create_group
from webapp.models import BackgroundTask, User
from webapp.web.security import PUBLIC, access_level

HUGE = "x" * 100_000
MARKUP = "<script>alert('herald-sweep')</script>"
#: Non-ASCII text; FORMER_CRASHES adds upper-case duplicates.
UNICODE = "ünïcødé 🦄 \u202egnp.exe\u200b 中文"

BAD_VALUES: dict[str, str] = {
    "empty": "",
    "whitespace": " \t\r\n ",
    "huge": HUGE,
    "JSON-breaking": '{"a": [1, "b\\", }\'',
    "deeply nested": "[" * 5_000,
    "unicode": UNICODE,
    "markup": MARKUP,
    "negative": "-1",
    "overflowing": "99999999999999999999",
    "not a number": "abc",
    "not finite": "1e999",
    "SQL-ish": "' OR 1=1 --",
    "percent-escapes": "%ZZ%ff%",
    "end of time": "9999-12-31T23:59",
    "start of time": "0001-01-01T00:00",
}
#: One field at a time gets these, and htmx requests too; the rest of BAD_VALUES says nothing
#: new there.
ONE_FIELD_CASES = ("empty", "huge", "JSON-breaking", "deeply nested", "unicode", "markup",
                   "negative", "overflowing", "end of time")

#: Query parameters some page reads; the sweep adds those it finds in forms and links.
QUERY_NAMES = {"page", "page_size", "q", "before", "next", "action", "username", "client_ip"}
#: Fields sent with every all-fields payload, for views that read request.form directly.
COMMON_FIELD_NAMES = {
    "name", "username", "email", "password", "new_password", "confirm", "current_password",
    "user_id", "parent_id", "identifier", "description", "expires", "attributes", "is_active",
    "is_superuser", "event_retention", "next", "submit",
}

PATH_VALUES = ["0", "-1", "2147483648", "99999999999999999999", "abc", "1.5", "١٢", "🦄",
               "%00", "%ZZ", "x" * 10_000, "..%2f..%2fapp.py",
               "00000000-0000-0000-0000-000000000000"]
PATH_PLACEHOLDER = {"IntegerConverter": "1", "PathConverter": "css/herald.css"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes that sign the sweeper out: attacked last, after the pages are rendered once more.
ENDS_THE_SESSION = {"auth.logout"}
#: Setting one's own password is a legitimate change, and would lock this test out.
NOT_ON_OWN_ACCOUNT = {"directory.user_password"}

_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


# --- what a good answer looks like -------------------------------------------------------------

class Sweep:
    """Sends requests and collects every bad answer, so one run reports all of them."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.failures: list[str] = []
        self.requests = 0

    def send(self, method: str, url: str, *, data=None, headers=None, case: str = "",
             expect: int | None = None) -> None:
        response = self.client.open(url, method=method, headers=headers,
                                    data=MultiDict(data) if data is not None else None)
        self.requests += 1
        problem = answer_problem(response, expect)
        if problem:
            self.failures.append(f"{method} {shorten(url)} [{case}]: {problem}")

    def assert_clean(self) -> None:
        assert not self.failures, f"{len(self.failures)} bad answers:\n" + "\n".join(
            self.failures[:40])


def answer_problem(response: TestResponse, expect: int | None) -> str | None:
    """Why an answer is not a clear one, or None. ("Traceback" alone is the heading of an
    exception event's page; a leaked stack trace says the whole line.)"""
    body = response.get_data(as_text=True)
    if response.status_code >= 500:
        return f"status {response.status_code}"
    if expect is not None and response.status_code != expect:
        return f"status {response.status_code}, expected {expect}"
    leaks = {"Traceback (most recent call last)": "a stack trace", "scrypt:": "a password hash"}
    if response.mimetype == "text/html":
        leaks[MARKUP] = "unescaped markup"
    for leak, meaning in leaks.items():
        if leak in body:
            return f"the page shows {meaning}"
    return None


def shorten(text: str) -> str:
    return text if len(text) <= 120 else f"{text[:100]}…({len(text)} chars)"


# --- what the pages offer ----------------------------------------------------------------------

@dataclass
class Form:
    """A form (or an hx-post button) as the browser would submit it."""

    action: str
    defaults: list[tuple[str, str]] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # input type by field name

    @property
    def password_fields(self) -> set[str]:
        return {name for name, kind in self.kinds.items() if kind == "password"}

    @property
    def names(self) -> list[str]:
        every = [*(name for name, _ in self.defaults), *self.kinds]
        return [name for name in dict.fromkeys(every) if name != "csrf_token"]


class PageReader(HTMLParser):
    """Collects the POST forms of a page with their default values, and every query parameter
    name its GET forms and links use."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: list[Form] = []
        self.query_names: set[str] = set()
        self._form: Form | None = None
        self._get_form = False
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected
        self._textarea: list[str] | None = None
        self._textarea_name = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        for link in (a.get("href"), a.get("hx-get")):
            if link and "?" in link:
                self.query_names.update(name for name, _ in parse_qsl(urlsplit(link).query))
        if tag == "form":
            self._start_form(a)
        elif "hx-post" in a and tag != "form" and self._form is None:
            self.forms.append(Form(action=path_of(a["hx-post"])))
        elif tag == "input":
            self._input(a)
        elif tag == "select":
            self._select = (a.get("name", ""), [], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append(a.get("value", ""))
            if "selected" in a:
                self._select[2].append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea, self._textarea_name = [], a.get("name", "")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form, self._get_form = None, False
        elif tag == "select" and self._select is not None:
            name, options, selected = self._select
            self._field(name, (selected or options or [""])[0])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._field(self._textarea_name, "".join(self._textarea).removeprefix("\n"))
            self._textarea = None

    def _start_form(self, a: dict[str, str]) -> None:
        if a.get("method", "get").lower() == "get":
            self._get_form = True
            return
        self._form = Form(action=path_of(a.get("action") or self.page_path))
        self.forms.append(self._form)

    def _input(self, a: dict[str, str]) -> None:
        kind, name = a.get("type", "text"), a.get("name", "")
        if self._form is not None and name:
            self._form.kinds[name] = kind
        if kind != "checkbox" or "checked" in a:  # an unticked box sends nothing
            self._field(name, a.get("value", ""))

    def _field(self, name: str, value: str) -> None:
        if not name:
            return
        if self._get_form:
            self.query_names.add(name)
        elif self._form is not None:
            self._form.defaults.append((name, value))


def path_of(url: str) -> str:
    return urlsplit(url).path


@dataclass
class Site:
    """What some pages offer: the forms by the path they post to, and the query parameters."""

    forms: dict[str, Form]
    query_names: set[str]

    def form_for(self, path: str) -> Form:
        """The form that posts to `path`, or a generous guess when no page renders one."""
        if path in self.forms:
            return self.forms[path]
        return Form(action=path, defaults=[(name, "") for name in sorted(COMMON_FIELD_NAMES)])


def read_pages(client: FlaskClient, urls: list[str]) -> Site:
    forms: dict[str, Form] = {}
    names = set(QUERY_NAMES)
    for url in urls:
        reader = PageReader(url)
        reader.feed(client.get(url).get_data(as_text=True))
        for form in reader.forms:
            forms.setdefault(form.action, form)
        names |= reader.query_names
    return Site(forms, names)


# --- the routes and their targets --------------------------------------------------------------

def routes(app: Flask, method: str) -> list[Rule]:
    allowed = STATE_CHANGING if method == "POST" else {method}
    return sorted((rule for rule in app.url_map.iter_rules() if rule.methods & allowed),
                  key=lambda rule: rule.rule)


def get_urls(app: Flask, targets: dict[str, str]) -> list[str]:
    return [url_for_rule(rule, targets) for rule in routes(app, "GET")]


def method_of(rule: Rule) -> str:
    return sorted(rule.methods & STATE_CHANGING)[0]


def url_for_rule(rule: Rule, values: dict[str, str], **raw: str) -> str:
    """The rule's path with `values` (or a placeholder) for its arguments; `raw` ones are
    inserted exactly as given, percent-escapes and all, as an attacker would type them."""
    def argument(match: re.Match[str]) -> str:
        name = match["name"]
        if name in raw:
            return raw[name]
        converter = type(rule._converters[name]).__name__
        value = values.get(name, PATH_PLACEHOLDER.get(converter, "1"))
        return quote(value, safe="/")
    return _ARGUMENT.sub(argument, rule.rule)


_counter = itertools.count(1)


def seed_targets() -> dict[str, str]:
    """Fresh objects for a route to be attacked through, so that a legitimate delete by one
    route leaves the next one something to work on (needs an application context)."""
    n = next(_counter)
    user = create_user(f"target-{n}", email=f"target-{n}@example.com")
    parent = create_group(name=f"parent-{n}", parent=None, is_superuser=False)
    group = create_group(name=f"team-{n}", parent=parent, is_superuser=False)
    add_member(group, user)
    task = BackgroundTask(kind="sweep", status="done", message="seeded")
    db.session.add(task)
    db.session.commit()
    token, _key = make_token(user, identifier=f"target-{n}-token")
    event = make_event("login_failed", username=f"target-{n}")
    return {"user_id": str(user.id), "group_id": str(group.num_pk), "token_id": str(token.id),
            "task_id": str(task.id), "event_id": event.pk}


def admin_id(app: Flask) -> str:
    with app.app_context():
        return str(db.session.scalar(sa.select(User.id).where(User.username == "admin")))


# --- payloads ----------------------------------------------------------------------------------

def payloads(form: Form, token: str) -> Iterator[tuple[str, list[tuple[str, str]], bool]]:
    """(case, form data, as htmx) for one form: all fields bad together, each field bad alone
    with plausible values in the others, repeated keys, nothing, and the secret case."""
    defaults = plausible(form)
    every_name = list(dict.fromkeys([*form.names, *sorted(COMMON_FIELD_NAMES)]))
    csrf = [("csrf_token", token)]
    yield "no fields at all", csrf, False
    for case, value in BAD_VALUES.items():
        for htmx in (False, True) if case in ONE_FIELD_CASES else (False,):
            yield f"every field {case}", csrf + [(name, value) for name in every_name], htmx
    yield "every key repeated", csrf + [pair for name in every_name
                                        for pair in ((name, "1"), (name, UNICODE))], False
    for name, case in itertools.product(form.names, ONE_FIELD_CASES):
        yield f"{name} {case}", csrf + replaced(defaults, name, BAD_VALUES[case]), False
    if form.password_fields:
        yield "the admin's password in password fields", csrf + [
            (name, ADMIN_PASSWORD if name in form.password_fields else value)
            for name, value in defaults], False
    yield "as rendered, filled in", csrf + defaults, False


def plausible(form: Form) -> list[tuple[str, str]]:
    """The form's own values, with empty text filled in as a person would. Passwords and dates
    stay empty: both are optional where they may be, and hashing is slow."""
    n = next(_counter)
    filled = []
    for name, value in form.defaults:
        if name == "csrf_token":
            continue
        if not value and form.kinds.get(name, "text") in ("text", "search", "email"):
            value = f"sweep{n}@example.com" if "email" in name else f"sweep{n}"
        filled.append((name, value))
    return filled


def replaced(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """`pairs` with `name` set to `value`, added if the form would not have sent it."""
    others = [(key, old) for key, old in pairs if key != name]
    return [*others, (name, value)]


def query_cases(names: set[str]) -> Iterator[tuple[str, str]]:
    """(case, raw query string) for a page."""
    hex_id = "0" * 32
    for case, value in BAD_VALUES.items():
        yield f"every parameter {case}", "&".join(f"{n}={quote(value)}" for n in sorted(names))
    yield "repeated keys", "&".join(f"{n}=1&{n}=2&{n}={quote(UNICODE)}" for n in sorted(names))
    yield "undecodable escapes", "&".join(f"{n}=%ZZ%ff%fe%C0%AF%E2%82" for n in sorted(names))
    yield "keys without values", "&".join(sorted(names))
    for page in ("0", "9" * 1000):  # the other bad numbers are in BAD_VALUES
        yield f"page={shorten(page)}", f"page={page}"
    for cursor in (f"0001-01-01T00:00:00Z_{hex_id}", f"9999-12-31T23:59:59.999999Z_{hex_id}",
                   f"2024-01-01T00:00:00_{hex_id}", "2024-01-01T00:00:00Z_nothex", "_", "Z_Z"):
        yield f"cursor {cursor}", f"before={quote(cursor)}"


# --- the specifications ------------------------------------------------------------------------

@pytest.fixture
def targets(app: Flask, admin_client: FlaskClient) -> dict[str, str]:
    with app.app_context():
        return seed_targets()


def test_every_page_answers_malformed_query_strings_clearly(app, admin_client, targets):
    sweep = Sweep(admin_client)
    site = read_pages(admin_client, get_urls(app, targets))

    for rule in routes(app, "GET"):
        url = url_for_rule(rule, targets)
        for case, query in query_cases(site.query_names):
            sweep.send("GET", f"{url}?{query}", case=case)
            sweep.send("GET", f"{url}?{query}", case=f"{case}, htmx",
                       headers={"HX-Request": "true"})

    sweep.assert_clean()
    assert sweep.requests > 500


def test_a_nul_character_in_a_query_string_is_a_clear_400(app, admin_client, targets):
    sweep = Sweep(admin_client)
    for rule in routes(app, "GET"):
        sweep.send("GET", url_for_rule(rule, targets) + "?q=a%00b&page=%00", case="NUL",
                   expect=400)
    sweep.assert_clean()


def test_every_path_parameter_that_names_nothing_is_a_404(app, admin_client):
    sweep = Sweep(admin_client)
    token = csrf_token(admin_client)
    attacked = 0
    for rule in app.url_map.iter_rules():
        for name, value in itertools.product(rule.arguments, PATH_VALUES):
            url = url_for_rule(rule, {}, **{name: value})
            attacked += 1
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": token} if method in STATE_CHANGING else None
                sweep.send(method, url, data=data, case=f"{name}={shorten(value)}", expect=404)
    sweep.assert_clean()
    assert attacked >= 5 * len(PATH_VALUES)


def test_every_form_answers_malformed_fields_clearly_and_nothing_stored_is_lost(
        app, admin_client, caplog):
    sweep = Sweep(admin_client)
    with app.app_context():
        events_before = {event.event_uuid for event in events()}
    rules = routes(app, "POST")

    for rule in rules:
        if rule.endpoint not in ENDS_THE_SESSION:
            attack_every_field(sweep, app, rule)
    rerender_every_page(sweep, app)
    for rule in rules:
        if rule.endpoint in ENDS_THE_SESSION:
            attack_every_field(sweep, app, rule)

    sweep.assert_clean()
    wait_for_background_tasks(app)
    assert_the_admin_still_signs_in(app)
    assert_nothing_failed_quietly_and_no_secret_was_recorded(app, caplog.text, events_before)


def attack_every_field(sweep: Sweep, app: Flask, rule: Rule) -> None:
    """Every payload against fresh targets; a route about a user is also attacked on the
    administrator's own account, where deleting or demoting is refused by design."""
    token = csrf_token(sweep.client)
    accounts = [None]
    if "user_id" in rule.arguments and rule.endpoint not in NOT_ON_OWN_ACCOUNT:
        accounts.append(admin_id(app))
    for account in accounts:
        with app.app_context():
            targets = seed_targets()
        if account:
            targets["user_id"] = account
        url = url_for_rule(rule, targets)
        pages = [url] if "GET" in rule.methods else get_urls(app, targets)
        form = read_pages(sweep.client, pages).form_for(url)
        for case, data, htmx in payloads(form, token):
            sweep.send(method_of(rule), url, data=data, case=case,
                       headers={"HX-Request": "true"} if htmx else None)


def rerender_every_page(sweep: Sweep, app: Flask) -> None:
    """Whatever the sweep stored (unicode names, markup, far-future expiries) renders cleanly
    on every page, in full and as htmx fragments."""
    with app.app_context():
        targets = seed_targets()
    for rule in routes(app, "GET"):
        url = url_for_rule(rule, targets)
        sweep.send("GET", url, case="after the sweep")
        sweep.send("GET", url, case="after the sweep, htmx", headers={"HX-Request": "true"})


def test_anonymous_visitors_get_clear_answers_from_every_public_form(app, client, admin, caplog):
    sweep = Sweep(client)
    token = csrf_token(client)
    with app.test_request_context():
        public_rules = [rule for rule in routes(app, "POST")
                        if access_level(rule.endpoint) == PUBLIC]
    assert public_rules, "the sign-in form at least is public"

    for rule in public_rules:
        url = url_for_rule(rule, {})
        form = read_pages(client, [url]).form_for(url)
        for case, data, _htmx in payloads(form, token):
            sweep.send(method_of(rule), url, data=data, case=case)

    sweep.assert_clean()
    assert_the_admin_still_signs_in(app)
    assert_nothing_failed_quietly_and_no_secret_was_recorded(app, caplog.text, set())


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "/\n/evil.example", " //evil.example", "javascript:alert(1)",
    "http:evil.example", "/%2F%2Fevil.example", HUGE,
])
def test_signing_in_never_redirects_off_the_site(app, admin, target):
    response = post_form(app.test_client(), "/auth/login",
                         {"username": "admin", "password": ADMIN_PASSWORD, "next": target})
    assert response.status_code == 302
    location = re.sub(r"[\t\n\r]", "", response.headers["Location"])  # as browsers read it
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and location[1:2] not in ("/", "\\"), location


# --- after the sweep ---------------------------------------------------------------------------

def wait_for_background_tasks(app: Flask, timeout: float = 10.0) -> None:
    """Tasks the sweep started (re-applying retention) finish before anything is checked."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while db.session.scalar(sa.select(sa.func.count()).select_from(BackgroundTask)
                                .where(BackgroundTask.status == "running")):
            assert time.monotonic() < deadline, "a background task never finished"
            db.session.rollback()
            time.sleep(0.05)


def assert_the_admin_still_signs_in(app: Flask) -> None:
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
        assert admin is not None, "the sweep deleted the signed-in administrator"
        assert admin.is_active and admin.is_superuser
    # From another address: the sweep's own failed sign-ins have throttled its address.
    response = login(app.test_client(), "admin", ADMIN_PASSWORD,
                     environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert response.status_code == 302, "the administrator can no longer sign in"


def assert_nothing_failed_quietly_and_no_secret_was_recorded(app: Flask, log_text: str,
                                                             events_before: set) -> None:
    with app.app_context():
        recorded = events()
        stored = {event.event_uuid for event in recorded}
        assert events_before <= stored, "events recorded before the sweep were lost"
        failures = [e.context.get("message") for e in recorded
                    if e.action in ("system_exception", "system_task_exception")]
        assert not failures, failures
        for event in recorded:
            text = repr((event.context, event.user))
            assert ADMIN_PASSWORD not in text, (event.action, event.context)
            assert "scrypt:" not in text, (event.action, event.context)
    assert ADMIN_PASSWORD not in log_text
    assert "scrypt:" not in log_text


# --- inputs that once crashed Herald: kept as exact regressions -------------------------------

NO_CURSOR_ID = "0" * 32
FORMER_CRASHES = [
    pytest.param("GET", f"/events/?before=0001-01-01T00:00:00%2B14:00_{NO_CURSOR_ID}", None,
                 id="cursor-before-year-1-in-utc"),
    pytest.param("GET", f"/events/?before=9999-12-31T23:59:59-14:00_{NO_CURSOR_ID}", None,
                 id="cursor-after-year-9999-in-utc"),
    pytest.param("GET", "/settings/tasks/99999999999999999999", None,
                 id="task-id-beyond-64-bits"),
    pytest.param("GET", "/settings/tasks/2147483648", None, id="task-id-beyond-32-bits"),
    pytest.param("POST", "/directory/groups/new", {"name": "Équipe", "parent_id": "0"},
                 id="duplicate-group-name-with-upper-case-non-ascii"),
    pytest.param("POST", "/directory/users/new", {"username": "Émile", "is_active": "y"},
                 id="duplicate-username-with-upper-case-non-ascii"),
]


@pytest.mark.parametrize(("method", "url", "data"), FORMER_CRASHES)
def test_inputs_that_once_crashed_are_answered_clearly(app, admin_client, method, url, data):
    """Sent twice: the duplicate cases crash on the second submission."""
    token = csrf_token(admin_client)
    for _ in range(2):
        response = admin_client.open(url, method=method,
                                     data={**(data or {}), "csrf_token": token})
        assert answer_problem(response, expect=None) is None
