"""Bindings: a policy, a group or a user tied to a rule, compiled for repeated evaluation.

As in authentik's PolicyProcess: a check that raises records a `policy_exception` event and
yields the binding's failure result; `negate` then inverts whatever the result was (failure
result included), and messages are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.events import record
from webapp.events.sanitize import model_reference
from webapp.models import EventAction, PolicyBinding
from webapp.policies.facts import EventFacts
from webapp.policies.membership import Membership
from webapp.policies.registry import PolicyCheck, compile_policy
from webapp.policies.sandbox import SandboxError

EXCEPTION_APP = "herald.policies"


@dataclass(frozen=True, slots=True)
class GroupCheck:
    group_id: int
    membership: Membership

    def __call__(self, facts: EventFacts, timeout: float) -> bool:
        return self.group_id in self.membership.groups_of(facts.user_pk)


@dataclass(frozen=True, slots=True)
class UserCheck:
    user_id: int

    def __call__(self, facts: EventFacts, timeout: float) -> bool:
        return facts.user_pk == self.user_id


@dataclass(frozen=True, slots=True)
class CompiledBinding:
    """Plain values only: evaluating never touches the ORM (no lazy loads per event)."""

    label: str
    check: PolicyCheck
    negate: bool
    failure_result: bool
    timeout: float
    #: Context of the policy_exception event; None for group and user bindings.
    exception_context: dict[str, Any] | None

    def evaluate(self, facts: EventFacts) -> tuple[bool, str | None]:
        try:
            passing, message = self.check(facts, self.timeout), None
        except Exception as exc:  # noqa: BLE001 - any failing policy takes the failure result
            message = f"{self.label}: {_describe(exc)}"
            self._report(facts, _describe(exc))
            passing = self.failure_result
        return passing != self.negate, message

    def _report(self, facts: EventFacts, message: str) -> None:
        record(EventAction.POLICY_EXCEPTION,
               {**(self.exception_context or {}), "message": message,
                "event": {"pk": facts.event.pk, "action": facts.action}},
               app=EXCEPTION_APP)


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, SandboxError) else f"{type(exc).__name__}: {exc}"


def compile_binding(binding: PolicyBinding, membership: Membership) -> CompiledBinding:
    check, context = _target(binding, membership)
    return CompiledBinding(label=binding.name, check=check, negate=binding.negate,
                           failure_result=binding.failure_result,
                           timeout=float(binding.timeout), exception_context=context)


def _target(binding: PolicyBinding, membership: Membership,
            ) -> tuple[PolicyCheck, dict[str, Any] | None]:
    if binding.policy is not None:
        policy = binding.policy
        context = {"policy_uuid": policy.pk, "policy": model_reference(policy),
                   "binding": {"pk": binding.pk, "order": binding.order}}
        return compile_policy(policy), context
    if binding.group_id is not None:
        return GroupCheck(binding.group_id, membership), None
    return UserCheck(binding.user_id), None

