"""Event matcher policies: every configured criterion must match, and one at least is set.

Beyond authentik, `client_ip` may be a CIDR network (v4 or v6); a plain address is a
one-address network. A stored value that does not parse never matches and never raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.events.ip_match import IPMatchError, Network, parse_ip_or_network
from webapp.models import EventMatcherPolicy
from webapp.policies.facts import EventFacts


class PolicyConfigError(ValueError):
    """A policy that cannot be saved; the message is for the form or the API response."""


def validate_event_matcher(*, action: str | None = None, client_ip: str | None = None,
                           app: str | None = None, model: str | None = None) -> None:
    """Refuse a matcher with no criterion, an unreadable client IP or a model that is not
    `app.model_name`, so forms and the API reject it before it silently never matches."""
    if not any((action, client_ip, app, model)):
        raise PolicyConfigError("Set at least one criterion: action, client IP, app or model.")
    if client_ip:
        try:
            parse_ip_or_network(client_ip)
        except IPMatchError as exc:
            raise PolicyConfigError(str(exc)) from None
    if model and not _is_model_label(model):
        raise PolicyConfigError("Enter the model as app.model_name, e.g. herald.user.")


def _is_model_label(model: str) -> bool:
    app, dot, name = model.rpartition(".")
    return bool(app and dot and name)


@dataclass(frozen=True, slots=True)
class EventMatcher:
    """A matcher with its CIDR parsed once; None means "not a criterion"."""

    action: str | None
    app: str | None
    model: str | None
    client_ip: str | None
    network: Network | None

    def __call__(self, facts: EventFacts, timeout: float) -> bool:
        if self.action is not None and facts.action != self.action:
            return False
        if self.app is not None and facts.app != self.app:
            return False
        if self.model is not None and facts.model != self.model:
            return False
        if self.client_ip is not None:
            return self._ip_matches(facts)
        return any((self.action, self.app, self.model))

    def _ip_matches(self, facts: EventFacts) -> bool:
        address = facts.client_ip
        return (self.network is not None and address is not None
                and address.version == self.network.version and address in self.network)


def compile_event_matcher(policy: EventMatcherPolicy) -> EventMatcher:
    client_ip = policy.client_ip or None
    return EventMatcher(action=policy.action or None, app=policy.app or None,
                        model=policy.model or None, client_ip=client_ip,
                        network=_network(client_ip))


def _network(text: str | None) -> Network | None:
    try:
        return parse_ip_or_network(text) if text else None
    except IPMatchError:
        return None
