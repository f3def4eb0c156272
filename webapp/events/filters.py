"""Event filters: parsed from a query string, applied as indexed SQL conditions.

The same filter serves Events > Logs, the live tail, the counts and (later) the chart, the map
and the exports, so "what the administrator is looking at" is one value everywhere. Each field
is parsed on its own: a value that cannot be a filter (a bad CIDR, an impossible date, an
unknown action) is reported against its field and left out, and the other fields still apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from webapp.events.errors import BadQuery
from webapp.events.ip_match import IPMatchError, Network, ip_condition, parse_ip_or_network
from webapp.events.search import parse_search, search_condition
from webapp.models import Event, EventAction

MAX_TEXT = 255
MAX_ACTIONS = 50
PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7),
           "30d": timedelta(days=30)}
PERIOD_LABELS = {"": "Any time", "1h": "Last hour", "24h": "Last 24 hours",
                 "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom range"}
KNOWN_ACTIONS = tuple(action.value for action in EventAction
                      if action is not EventAction.CUSTOM_PREFIX)
#: Exact-match text filters and the indexed column each one compares.
TEXT_COLUMNS: dict[str, sa.orm.InstrumentedAttribute[Any]] = {
    "username": Event.username, "app": Event.app, "model_app": Event.model_app,
    "model_name": Event.model_name, "model_pk": Event.model_pk, "city": Event.city,
}
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


class QueryArgs(Protocol):
    """What filters read: a query string (Werkzeug's MultiDict has this shape)."""

    def get(self, key: str, default: str = ...) -> str: ...
    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class EventFilter:
    """What to show. `period` is relative ("the last 24 hours" from now, each time it is
    applied); `since`/`until` are a fixed custom range, `until` exclusive."""

    actions: tuple[str, ...] = ()
    username: str = ""
    client_ip: Network | None = None
    app: str = ""
    model_app: str = ""
    model_name: str = ""
    model_pk: str = ""
    city: str = ""
    country: str = ""
    period: str = ""
    since: datetime | None = None
    until: datetime | None = None
    q: str = ""
    #: The query-string text each active filter came from, for links that keep the view.
    source: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def conditions(self, now: datetime | None = None) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if self.actions:
            found.append(Event.action.in_(self.actions))
        found += [column == getattr(self, name) for name, column in TEXT_COLUMNS.items()
                  if getattr(self, name)]
        if self.country:
            found.append(Event.country == self.country)
        if self.client_ip is not None:
            found.append(ip_condition(Event.client_ip, self.client_ip))
        since, until = self.window(now)
        if since is not None:
            found.append(Event.created >= since)
        if until is not None:
            found.append(Event.created < until)
        if self.q:
            found.append(search_condition(self.q))
        return found

    def apply(self, query: sa.Select, now: datetime | None = None) -> sa.Select:
        conditions = self.conditions(now)
        return query.where(*conditions) if conditions else query

    def window(self, now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
        if self.period in PERIODS:
            return (now or datetime.now(UTC)) - PERIODS[self.period], None
        return self.since, self.until

    @property
    def active(self) -> bool:
        return bool(self.source)

    @property
    def only_search(self) -> bool:
        """Whether the filter is free text and nothing else (its count comes from the index)."""
        return bool(self.q) and [name for name, _ in self.source] == ["q"]

    @property
    def only_actions_and_time(self) -> bool:
        """Whether hourly per-action counts can answer this filter (charts use roll-ups)."""
        return not any(getattr(self, name) for name in (*TEXT_COLUMNS, "country", "q")) \
            and self.client_ip is None

    def with_actions(self, *actions: str) -> EventFilter:
        """The same view narrowed to these actions (a chart's legend and bars link here)."""
        others = tuple(pair for pair in self.source if pair[0] != "action")
        return replace(self, actions=actions,
                       source=(*(("action", action) for action in actions), *others))

    def query_args(self, **extra: Any) -> list[tuple[str, str]]:
        """The filter as query-string pairs (plus `extra`), for links that keep the view."""
        pairs = list(self.source)
        pairs += [(key, str(value)) for key, value in extra.items() if value not in (None, "")]
        return pairs


@dataclass(frozen=True)
class ParsedFilters:
    """The usable filter, the text the user typed (to show it back), and per-field errors."""

    filter: EventFilter
    typed: Mapping[str, Any]
    errors: Mapping[str, str]


def parse_filters(args: QueryArgs) -> ParsedFilters:
    values: dict[str, Any] = {}
    typed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    source: list[tuple[str, str]] = []
    actions = [text.strip() for text in args.getlist("action") if text.strip()][:MAX_ACTIONS]
    typed["action"] = actions
    if actions:
        unknown = [action for action in actions if not _is_action(action)]
        if unknown:
            errors["action"] = (f"Unknown action “{unknown[0][:60]}”. Pick actions from the "
                                "list; custom actions start with custom_.")
        values["actions"] = tuple(dict.fromkeys(a for a in actions if _is_action(a)))
        source += [("action", action) for action in values["actions"]]
    for name, parse in _SCALAR_PARSERS.items():
        text = args.get(name, "").strip()[:MAX_TEXT]
        typed[name] = text
        if not text:
            continue
        try:
            values[name] = parse(text)
        except (BadQuery, IPMatchError) as exc:
            errors[name] = str(exc)
            continue
        source.append((name, text))
    _check_range(values, errors, source)
    return ParsedFilters(EventFilter(**values, source=tuple(source)), typed, errors)


def _is_action(action: str) -> bool:
    prefix = EventAction.CUSTOM_PREFIX.value
    return action in KNOWN_ACTIONS or (action.startswith(prefix) and len(action) > len(prefix))


def _parse_country(text: str) -> str:
    if not _COUNTRY.match(text):
        raise BadQuery("Use the two-letter country code, e.g. DE or NZ.")
    return text.upper()


def _parse_period(text: str) -> str:
    if text not in PERIOD_LABELS:
        raise BadQuery("Pick a time range from the list.")
    return text


def parse_moment(text: str) -> datetime:
    """A date or date and time, read as UTC unless it names its offset."""
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError as exc:
        raise BadQuery(f"“{text[:40]}” is not a valid date; use YYYY-MM-DD or "
                       "YYYY-MM-DDTHH:MM (UTC).") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_search(text: str) -> str:
    parse_search(text)  # raises BadQuery for text that cannot be searched
    return text


def _keep(text: str) -> str:
    return text


_SCALAR_PARSERS: dict[str, Callable[[str], Any]] = {
    **dict.fromkeys(TEXT_COLUMNS, _keep),
    "country": _parse_country,
    "client_ip": parse_ip_or_network,
    "period": _parse_period,
    "since": parse_moment,
    "until": parse_moment,
    "q": _parse_search,
}


def _check_range(values: dict[str, Any], errors: dict[str, str],
                 source: list[tuple[str, str]]) -> None:
    """A date-only `until` means the end of that day; a range must run forwards; a preset
    period wins over custom dates only when it is not "custom"."""
    until = values.get("until")
    if until is not None and _is_date_only(source, "until"):
        try:
            values["until"] = until + timedelta(days=1)
        except OverflowError:
            values.pop("until")
            errors["until"] = "That date is too far in the future."
    since, until = values.get("since"), values.get("until")
    if since is not None and until is not None and until <= since:
        errors["until"] = "“Until” must be later than “Since”."
        values.pop("until")
        source[:] = [pair for pair in source if pair[0] != "until"]
    if values.get("period") in PERIODS:
        values.pop("since", None)
        values.pop("until", None)
        source[:] = [pair for pair in source if pair[0] not in ("since", "until")]


def _is_date_only(source: Iterable[tuple[str, str]], name: str) -> bool:
    return any(key == name and len(text) == 10 for key, text in source)
