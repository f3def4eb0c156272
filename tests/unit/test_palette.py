"""The palette: every action has a category and a colour, and any badge is readable."""

from __future__ import annotations

from webapp.events.filters import KNOWN_ACTIONS
from webapp.reports.palette import (
    CATEGORIES,
    CUSTOM,
    CUSTOM_SHADES,
    _relative_luminance,
    grouped,
    swatch,
)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_relative_luminance(first), _relative_luminance(second)),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_every_known_action_has_a_category_and_a_readable_badge():
    for action in KNOWN_ACTIONS:
        found = swatch(action)
        assert found.category in CATEGORIES
        assert contrast(found.colour, found.text) >= 4.5, action


def test_sign_ins_and_failures_look_different():
    assert swatch("login").colour != swatch("login_failed").colour


def test_custom_actions_spread_over_several_shades_the_same_one_every_time():
    names = [f"custom_{word}" for word in ("deploy", "invoice_paid", "refund_issued", "renewed",
                                           "payment_failed", "backup", "rotate")]
    colours = {swatch(name).colour for name in names}
    assert len(colours) >= 4
    assert colours <= set(CUSTOM_SHADES)
    assert all(swatch(name).category == CUSTOM for name in names)
    assert all(contrast(swatch(name).colour, swatch(name).text) >= 4.5 for name in names)
    assert swatch("custom_deploy") == swatch("custom_deploy")


def test_grouping_follows_the_category_order():
    assert list(grouped(["custom_x", "login", "model_created"])) == [
        "authentication", "directory changes", "custom"]
