"""Logging: Herald's loggers write to stderr; event lines are bare JSON for log shippers."""

import logging
import sys

_CONFIGURED_FLAG = "_herald_configured"


def configure_logging(*, quiet: bool = False) -> None:
    """Idempotent: creating many apps (tests) never stacks handlers. `quiet` (tests) keeps the
    levels but writes nothing to stderr; tests attach their own handlers to read lines."""
    root = logging.getLogger("herald")
    if getattr(root, _CONFIGURED_FLAG, False):
        return
    setattr(root, _CONFIGURED_FLAG, True)
    root.setLevel(logging.INFO)
    logging.getLogger("herald.events").setLevel(logging.INFO)
    if quiet:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    events = logging.getLogger("herald.events")
    events.propagate = False
    json_handler = logging.StreamHandler(sys.stderr)
    json_handler.setFormatter(logging.Formatter("%(message)s"))
    events.addHandler(json_handler)
