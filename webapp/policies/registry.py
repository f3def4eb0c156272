"""Policy kinds: `Policy.kind` -> the function that compiles a stored policy into a check.

A check is `check(facts, timeout) -> bool`; it may raise, and the binding then applies its
failure result. A new policy type adds one model subclass and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.models import Policy
from webapp.policies.event_matcher import compile_event_matcher
from webapp.policies.expression import compile_expression
from webapp.policies.facts import EventFacts

PolicyCheck = Callable[[EventFacts, float], bool]

COMPILERS: dict[str, Callable[[Any], PolicyCheck]] = {
    "event_matcher": compile_event_matcher,
    "expression": compile_expression,
}


def compile_policy(policy: Policy) -> PolicyCheck:
    return COMPILERS[policy.kind](policy)
