"""Event actions: authentik's 33 values, and custom_ for everything else."""

import pytest

from webapp.models import EventAction


def test_all_authentik_actions_are_known():
    assert len(EventAction) == 33
    assert {"login", "login_failed", "model_updated", "export_ready",
            "review_completed"} <= {a.value for a in EventAction}


@pytest.mark.parametrize(("given", "stored"), [
    ("login", "login"),
    (EventAction.MODEL_CREATED, "model_created"),
    ("deploy", "custom_deploy"),
    ("custom_deploy", "custom_deploy"),
    ("custom_", "custom_custom_"),
    ("Login", "custom_Login"),
])
def test_unknown_actions_get_the_custom_prefix_once(given, stored):
    assert EventAction.normalise(given) == stored
