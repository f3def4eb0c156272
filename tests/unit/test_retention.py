"""Retention strings, as administrators type them."""

from datetime import timedelta

import pytest

from webapp.events.retention import RetentionError, parse_retention


@pytest.mark.parametrize(("text", "expected"), [
    ("days=365", timedelta(days=365)),
    ("hours=1;minutes=30", timedelta(hours=1, minutes=30)),
    (" Days = 1.5 ; ", timedelta(days=1.5)),
    ("weeks=2;days=1", timedelta(days=15)),
    ("seconds=90;milliseconds=500", timedelta(seconds=90.5)),
    ("minutes=1;minutes=2", timedelta(minutes=3)),
])
def test_valid_retention_strings(text, expected):
    assert parse_retention(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "Enter a retention"),
    ("   ", "Enter a retention"),
    ("365", "is not of the form unit=number"),
    ("dayz=30", "Unknown unit 'dayz'"),
    ("days=many", "'many' is not a number"),
    ("days=-1", "must be a positive number"),
    ("days=nan", "must be a positive number"),
    ("days=inf", "must be a positive number"),
    ("days=0", "longer than zero"),
    ("days=1e300", "too long"),
    ("days=40000", "at most 100 years"),
    (";;;", "longer than zero"),
])
def test_invalid_retention_strings_say_why(text, message):
    with pytest.raises(RetentionError, match=message):
        parse_retention(text)
