"""Logging: Herald's loggers write to stderr; event lines are bare JSON for log shippers.

A server's stderr is read by log shippers, so every event is one JSON line there. A person at
an interactive command (`flask bootstrap`, `flask users create`, `flask demo`) reads the
terminal instead: there the lines are held back (`held_event_lines`) and the command says how
many events it recorded, so what it has to say (the administrator's password) is not buried
under walls of JSON. The events themselves are in the database either way.
"""

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_CONFIGURED_FLAG = "_herald_configured"
EVENTS_LOGGER = "herald.events"


def configure_logging(*, quiet: bool = False) -> None:
    """Idempotent: creating many apps (tests) never stacks handlers. `quiet` (tests) keeps the
    levels but writes nothing to stderr; tests attach their own handlers to read lines."""
    root = logging.getLogger("herald")
    if getattr(root, _CONFIGURED_FLAG, False):
        return
    setattr(root, _CONFIGURED_FLAG, True)
    root.setLevel(logging.INFO)
    logging.getLogger(EVENTS_LOGGER).setLevel(logging.INFO)
    if quiet:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    events = logging.getLogger(EVENTS_LOGGER)
    events.propagate = False
    json_handler = logging.StreamHandler(sys.stderr)
    json_handler.setFormatter(logging.Formatter("%(message)s"))
    events.addHandler(json_handler)


class _Holder(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def held_event_lines() -> Iterator[list[str]]:
    """While it lasts, event lines go into the yielded list instead of to stderr (or to any
    other handler); afterwards the logger is exactly as it was."""
    events = logging.getLogger(EVENTS_LOGGER)
    saved = events.handlers[:], events.propagate
    held: list[str] = []
    events.handlers = [_Holder(held)]
    events.propagate = False
    try:
        yield held
    finally:
        events.handlers, events.propagate = saved
