"""Expression policies: a Jinja sandbox expression over the event; a truthy result passes.

Errors are not handled here: the binding that runs the policy records `policy_exception` and
applies its failure result, as it does for any policy that raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.models import ExpressionPolicy
from webapp.policies.facts import EventFacts
from webapp.policies.sandbox import evaluate


@dataclass(frozen=True, slots=True)
class Expression:
    source: str

    def __call__(self, facts: EventFacts, timeout: float) -> bool:
        return bool(evaluate(self.source, facts.variables, timeout=timeout))


def compile_expression(policy: ExpressionPolicy) -> Expression:
    return Expression(policy.expression or "")
