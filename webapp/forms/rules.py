"""The notification rule form: the rule's settings and its bindings, submitted as one form.

Each binding row has a `kind`: an existing policy, a new event matcher (created on save), a
group or a user. Only the fields of the row's kind are validated; the others are not shown.
`spec()` turns a valid form into a RuleSpec, which saving and the preview both consume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import request
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from webapp.core.extensions import db
from webapp.forms.directory import DirectoryForm, clean_text, name_taken
from webapp.forms.pickers import GROUP_BY_ID, USER_BY_NAME, PickerField
from webapp.forms.policies import ListedChoice, MatcherChoices, matcher_fields
from webapp.models import (
    NotificationRule,
    NotificationTransport,
    Policy,
    PolicyBinding,
    PolicyEngineMode,
    Severity,
)
from webapp.notifications.rule_admin import (
    BindingSpec,
    NewMatcher,
    RuleSpec,
    throttle_key_error,
    unique_policy_name,
)
from webapp.policies.admin import policy_rows

BINDING_KINDS = {"matcher": "New event matcher", "policy": "Existing policy",
                 "group": "Group", "user": "User"}
MAX_BINDINGS = 50
MAX_THROTTLE_MINUTES = 525_600  # a year


def _id(value: Any) -> int:
    """An id from a select: 0 for none chosen, -1 for anything that is not a number (which
    no option has, so it is reported as unlisted rather than as a coercion error)."""
    if value in (None, ""):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class ForKind:
    """Validates a binding row's field only when the row is of one of `kinds`."""

    def __init__(self, *kinds: str) -> None:
        self.kinds = kinds

    def __call__(self, form: Any, field: Any) -> None:
        if form.kind.data not in self.kinds:
            field.errors[:] = []
            raise StopValidation()


@dataclass(slots=True)
class RuleChoices:
    """Everything the rule form offers, read once per request."""

    matcher: MatcherChoices = field(default_factory=MatcherChoices)
    policies: dict[int, Any] = field(default_factory=lambda: {
        row.policy.id: row.policy for row in policy_rows()})
    transports: dict[int, NotificationTransport] = field(default_factory=lambda: {
        t.id: t for t in db.session.scalars(
            sa.select(NotificationTransport).order_by(NotificationTransport.name))})

    def apply(self, row: BindingForm) -> None:
        self.matcher.apply(row)
        row.policy_id.choices = [(0, "— Choose a policy —"), *(
            (p.id, p.name) for p in self.policies.values())]


class BindingForm(matcher_fields(ForKind("matcher")), Form):
    binding_id = IntegerField(widget=HiddenInput(), validators=[Optional()])
    kind = HiddenField(validators=[AnyOf(list(BINDING_KINDS), message="Unknown binding kind.")])
    policy_id = ListedChoice("Policy", coerce=_id, unlisted="That policy does not exist.",
                             validators=[ForKind("policy"), DataRequired("Choose a policy.")])
    group_id = PickerField("Group", source=GROUP_BY_ID, unlisted="That group does not exist.",
                           validators=[ForKind("group"), DataRequired("Choose a group.")],
                           description="Passes for events of its members.")
    username = PickerField("User", source=USER_BY_NAME, unlisted="No user named '{value}'.",
                           validators=[ForKind("user"), DataRequired("Enter a username.")],
                           description="Passes for this user's events.")
    matcher_name = StringField("Policy name", filters=[clean_text],
                               validators=[ForKind("matcher"), Optional(), Length(max=150)],
                               description="Optional; named after the rule when empty.")
    enabled = BooleanField("Enabled", default=True)
    negate = BooleanField("Invert result")
    failure_result = BooleanField("Pass on error")
    order = IntegerField("Order", default=0, validators=[
        NumberRange(-1_000_000, 1_000_000, message="Enter an order between -1,000,000 and "
                                                   "1,000,000.")])
    timeout = IntegerField("Timeout, s", default=30, validators=[
        NumberRange(1, 300, message="Enter a timeout between 1 and 300 seconds.")])

    def validate_matcher_name(self, field: StringField) -> None:
        if field.data and name_taken(Policy.name, Policy.id, field.data):
            raise ValidationError(f"A policy named '{field.data}' already exists.")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        error = self.criteria_error() if valid and self.kind.data == "matcher" else None
        if error:
            self.action.errors.append(error)
        return valid and not error


class RuleForm(DirectoryForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=150)])
    enabled = BooleanField("Enabled", default=True,
                           description="A disabled rule notifies nobody; its preview still "
                                       "works.")
    severity = SelectField("Severity", choices=[(s.value, s.value.capitalize())
                                                for s in Severity])
    destination_group_id = PickerField(
        "Notify group", source=GROUP_BY_ID,
        unlisted="That group does not exist; choose one from the list.",
        placeholder="Nobody: type to search groups",
        description="Every member of this group (and of groups below it) is notified.")
    destination_event_user = BooleanField(
        "Notify the event's user", description="The user the event is about hears of it too.")
    transports = SelectMultipleField("Transports", coerce=_id, validate_choice=False,
                                     description="Ctrl- or Cmd-click to choose several.")
    policy_engine_mode = SelectField("Fires when", choices=[
        (PolicyEngineMode.ANY.value, "any binding passes"),
        (PolicyEngineMode.ALL.value, "all bindings pass")])
    throttle_minutes = IntegerField("Throttle (minutes)", default=0, validators=[
        NumberRange(0, MAX_THROTTLE_MINUTES,
                    message=f"Enter minutes between 0 (off) and {MAX_THROTTLE_MINUTES:,}.")],
        description="At most one notification per throttle key in this many minutes.")
    throttle_key = StringField(
        "Throttle key", default="{{ event.user.username }}:{{ event.action }}",
        validators=[Length(max=500)], render_kw={"spellcheck": "false"},
        description="A template over the event; matches with the same key share the throttle.")
    bindings = FieldList(FormField(BindingForm), max_entries=MAX_BINDINGS)
    submit = SubmitField("Save rule")

    def __init__(self, *args: Any, rule: NotificationRule | None = None,
                 choices: RuleChoices, **kwargs: Any) -> None:
        if rule is not None and request.method == "GET":  # a post carries its own state
            kwargs = {**rule_data(rule), **kwargs}
        super().__init__(*args, **kwargs)
        self.rule, self.choices = rule, choices
        self.transports.choices = [(t.id, t.name) for t in choices.transports.values()]
        for entry in self.bindings:
            choices.apply(entry.form)

    def add_binding(self, kind: str) -> None:
        if kind not in BINDING_KINDS or len(self.bindings) >= MAX_BINDINGS:
            return
        orders = [entry.form.order.data or 0 for entry in self.bindings]
        self.bindings.append_entry(SimpleNamespace(kind=kind, order=max(orders, default=-1) + 1))
        self.choices.apply(self.bindings[-1].form)

    def remove_binding(self, index: int) -> None:
        if 0 <= index < len(self.bindings):
            self.bindings.entries.pop(index)

    def validate_name(self, field: StringField) -> None:
        if name_taken(NotificationRule.name, NotificationRule.id, field.data,
                       self.rule and self.rule.id):
            raise ValidationError(f"A rule named '{field.data}' already exists.")

    def validate_transports(self, field: SelectMultipleField) -> None:
        if any(pk not in self.choices.transports for pk in field.data or ()):
            raise ValidationError("Choose transports from the list; one of those does not "
                                  "exist.")

    def validate_throttle_key(self, field: StringField) -> None:
        error = throttle_key_error(field.data)
        if error:
            raise ValidationError(f"This template does not render: {error}")

    def spec(self) -> RuleSpec:
        """The validated form as a RuleSpec."""
        taken: set[str] = set()
        return RuleSpec(
            name=self.name.data, enabled=self.enabled.data, severity=self.severity.data,
            destination_group=self.destination_group_id.picked,
            destination_event_user=self.destination_event_user.data,
            policy_engine_mode=self.policy_engine_mode.data,
            throttle_minutes=self.throttle_minutes.data, throttle_key=self.throttle_key.data,
            transports=[self.choices.transports[pk] for pk in self.transports.data or ()],
            bindings=[self._binding_spec(entry.form, taken) for entry in self.bindings])

    def _binding_spec(self, row: BindingForm, taken: set[str]) -> BindingSpec:
        return BindingSpec(target=self._target(row, taken), enabled=row.enabled.data,
                           negate=row.negate.data, order=row.order.data,
                           timeout=row.timeout.data, failure_result=row.failure_result.data,
                           binding_id=row.binding_id.data)

    def _target(self, row: BindingForm, taken: set[str]) -> Any:
        if row.kind.data == "policy":
            return self.choices.policies[row.policy_id.data]
        if row.kind.data == "group":
            return row.group_id.picked
        if row.kind.data == "user":
            return row.username.picked
        criteria = row.criteria()
        label = next(value for value in criteria.values() if value)
        name = row.matcher_name.data or unique_policy_name(f"{self.name.data}: {label}", taken)
        taken.add(name)
        return NewMatcher(name=name, **criteria)


def rule_data(rule: NotificationRule) -> dict[str, Any]:
    """A saved rule as the form's initial values (not `obj=`: WTForms would read the rule's
    own `bindings` and `transports`, which are objects, not rows and ids)."""
    names = ("name", "enabled", "severity", "destination_group_id", "destination_event_user",
             "policy_engine_mode", "throttle_minutes", "throttle_key")
    return {**{name: getattr(rule, name) for name in names},
            "transports": [t.id for t in rule.transports],
            "bindings": [binding_data(b) for b in rule.bindings]}


def binding_data(binding: PolicyBinding) -> SimpleNamespace:
    """A saved binding as its form row: saved policies are bound as existing ones."""
    kind = "policy" if binding.policy_id else "group" if binding.group_id else "user"
    return SimpleNamespace(
        binding_id=binding.id, kind=kind, policy_id=binding.policy_id,
        group_id=binding.group_id, username=binding.user.username if binding.user else "",
        enabled=binding.enabled, negate=binding.negate, order=binding.order,
        timeout=binding.timeout, failure_result=binding.failure_result)
