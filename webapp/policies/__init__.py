"""Policies: event matchers, sandboxed expressions, bindings, and the engine that decides
whether a notification rule fires for an event (see engine.py for the rules of evaluation)."""

from webapp.policies.engine import PolicyResult, RuleSet, rule_passes, rule_result
from webapp.policies.event_matcher import PolicyConfigError, validate_event_matcher

__all__ = ["PolicyConfigError", "PolicyResult", "RuleSet", "rule_passes", "rule_result",
           "validate_event_matcher"]
