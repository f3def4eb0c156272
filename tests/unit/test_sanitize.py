"""Sanitizing turns any context value into plain JSON."""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path

from webapp.events.sanitize import iso_utc, sanitize


class Colour(Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_values_become_plain_json():
    value = {
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "when": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "day": date(2026, 1, 2),
        "delta": timedelta(minutes=1),
        "path": Path("/etc/herald"),
        "error": ValueError("boom"),
        "colour": Colour.RED,
        "point": Point(1, 2),
        "set": {3},
        "tuple": (1, "a"),
        "generator": (n for n in range(2)),
        "decimal": Decimal("1.5"),
        "nan": math.nan,
        "bytes": b"abc",
        "class": Point,
        "function": sanitize,
        7: "int key",
    }
    result = sanitize(value)
    assert result == {
        "uuid": "12345678123456781234567812345678",
        "when": "2026-01-02T03:04:05.000006Z",
        "day": "2026-01-02",
        "delta": "60.0",
        "path": "/etc/herald",
        "error": "boom",
        "colour": "red",
        "point": {"x": 1, "y": 2},
        "set": [3],
        "tuple": [1, "a"],
        "generator": [0, 1],
        "decimal": 1.5,
        "nan": "nan",
        "bytes": "abc",
        "class": {"type": "Point", "module": __name__},
        "function": {"type": "callable", "name": "sanitize",
                     "module": "webapp.events.sanitize"},
        "7": "int key",
    }
    json.dumps(result, allow_nan=False)


def test_nul_characters_are_stripped_everywhere():
    assert sanitize({"a\x00b": ["c\x00d"]}) == {"ab": ["cd"]}


def test_falsy_list_items_are_kept():
    assert sanitize([0, "", False, None]) == [0, "", False, None]


def test_timestamps_are_utc_with_a_z_whatever_zone_they_came_in():
    from zoneinfo import ZoneInfo

    berlin = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert iso_utc(berlin) == "2026-06-01T10:00:00.000000Z"
