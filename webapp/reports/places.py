"""Where events happened: the filtered events aggregated per place, for the map.

A place is an event's indexed (country, city). 100,000 events in range must not become
100,000 markers, nor 100,000 JSON parses: one grouped query counts events per place and action
from the country index alone, which holds city and action for this (reading the rows, let alone
parsing `context` for coordinates on every one, doubled its cost on SQLite), and a second,
small query reads each shown place's latest event through the created index. That event gives
the popup its "latest" line and the place its coordinates (`context.geo.lat`/`long`, which GeoIP
fills per city), so JSON is read once per place. Places without usable coordinates are counted,
not drawn.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.events.filters import EventFilter
from webapp.models import Event
from webapp.reports.palette import CATEGORIES, swatch

#: At most this many places (the busiest) become markers; the rest are counted as not shown.
MAX_PLACES = 500


@dataclass(frozen=True)
class Place:
    country: str
    city: str | None
    lat: float
    long: float
    count: int
    #: (action, count), busiest first.
    actions: tuple[tuple[str, int], ...]
    category: str  # the dominant category: the one with the most events here
    latest: Event

    @property
    def label(self) -> str:
        return f"{self.city}, {self.country}" if self.city else self.country


@dataclass(frozen=True)
class PlaceSummary:
    places: list[Place]
    #: Geo-located events in range, shown or not.
    located: int
    #: Of those, events at places that are not drawn (beyond MAX_PLACES or no coordinates).
    not_shown: int
    not_shown_places: int

    @property
    def shown(self) -> int:
        return self.located - self.not_shown

    @property
    def busiest(self) -> int:
        return max((place.count for place in self.places), default=0)


def places_for(filters: EventFilter, *, limit: int = MAX_PLACES,
               now: datetime | None = None) -> PlaceSummary:
    """The filtered, geo-located events per place, busiest first, at most `limit` places."""
    now = now or datetime.now(UTC)
    counts, latest_at = _counts(filters, now)
    located = sum(sum(actions.values()) for actions in counts.values())
    ranked = sorted(counts, key=lambda key: (-sum(counts[key].values()), key[0], key[1] or ""))
    chosen = ranked[:limit]
    latest = _latest_events(filters, now, {key: latest_at[key] for key in chosen})
    places = [place for key in chosen
              if (place := _place(key, counts[key], latest.get(key))) is not None]
    shown = sum(place.count for place in places)
    return PlaceSummary(places=places, located=located, not_shown=located - shown,
                        not_shown_places=len(counts) - len(places))


def any_located(filters: EventFilter, now: datetime | None = None) -> bool:
    """Whether the filter holds any geo-located event (cheap: stops at the first one)."""
    query = filters.apply(sa.select(Event.event_uuid).where(Event.country.is_not(None)), now)
    return db.session.execute(query.limit(1)).first() is not None


PlaceKey = tuple[str, str | None]


def _counts(filters: EventFilter, now: datetime
            ) -> tuple[dict[PlaceKey, Counter[str]], dict[PlaceKey, datetime]]:
    """Events per (place, action) and each place's latest moment, in one grouped query."""
    query = filters.apply(
        sa.select(Event.country, Event.city, Event.action, sa.func.count(),
                  sa.func.max(Event.created))
        .where(Event.country.is_not(None))
        .group_by(Event.country, Event.city, Event.action), now)
    counts: dict[PlaceKey, Counter[str]] = defaultdict(Counter)
    latest_at: dict[PlaceKey, datetime] = {}
    for country, city, action, count, latest in db.session.execute(query):
        key = (country, city)
        counts[key][action] += count
        if key not in latest_at or latest > latest_at[key]:
            latest_at[key] = latest
    return counts, latest_at


def _latest_events(filters: EventFilter, now: datetime,
                   wanted: dict[PlaceKey, datetime]) -> dict[PlaceKey, Event]:
    """Each place's latest matching event. `created IN (those moments)` is one equality
    lookup per place in the created index, which both databases prefer to the filter's range
    (a (country, created) row-value IN made SQLite scan the whole range instead)."""
    if not wanted:
        return {}
    moments = sorted(set(wanted.values()))
    query = filters.apply(sa.select(Event).where(Event.created.in_(moments)), now)
    found: dict[PlaceKey, Event] = {}
    for event in db.session.scalars(query.order_by(Event.event_uuid)):
        key = (event.country, event.city)
        if wanted.get(key) == event.created:
            found.setdefault(key, event)
    return found


def _place(key: PlaceKey, actions: Counter[str], latest: Event | None) -> Place | None:
    coordinates = _coordinates(latest.context if latest is not None else None)
    if latest is None or coordinates is None:
        return None
    country, city = key
    return Place(country=country, city=city, lat=coordinates[0], long=coordinates[1],
                 count=sum(actions.values()),
                 actions=tuple(sorted(actions.items(), key=lambda item: (-item[1], item[0]))),
                 category=dominant_category(actions), latest=latest)


def dominant_category(actions: Counter[str] | dict[str, int]) -> str:
    """The category with the most events; a tie goes to the palette's first category."""
    totals: Counter[str] = Counter()
    for action, count in actions.items():
        totals[swatch(action).category] += count
    return max(CATEGORIES, key=lambda category: (totals[category], -CATEGORIES.index(category)))


def _coordinates(context: Any) -> tuple[float, float] | None:
    """`context.geo`'s lat/long when they are real coordinates (the context may come from
    any client of the API, so nothing about its shape is trusted)."""
    geo = context.get("geo") if isinstance(context, dict) else None
    if not isinstance(geo, dict):
        return None
    lat, long = geo.get("lat"), geo.get("long")
    if not all(isinstance(value, int | float) and not isinstance(value, bool)
               for value in (lat, long)):
        return None
    if not (math.isfinite(lat) and math.isfinite(long)
            and -90 <= lat <= 90 and -180 <= long <= 180):
        return None
    return float(lat), float(long)
