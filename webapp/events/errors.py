"""The error every event reader raises for input it cannot use."""


class BadQuery(ValueError):
    """A filter, search or cursor from the query string that cannot be used; the message says
    why, in words for the person who typed it."""
