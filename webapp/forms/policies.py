"""Forms of the Policies pages, and the event-matcher fields the rule form reuses inline.

Validation calls the same functions that saving does (validate_event_matcher, sandbox.check),
so the page explains, next to the field, exactly what saving would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from webapp.forms.directory import DirectoryForm, name_taken
from webapp.models import Policy
from webapp.policies import PolicyConfigError, validate_event_matcher
from webapp.policies.admin import action_choices, seen_apps, seen_models
from webapp.policies.sandbox import SandboxError, check

ANY = ("", "— Any —")


class ListedChoice(SelectField):
    """A select whose value must be one of its options; empty means "none chosen" and is left
    to the field's validators, so an unknown id gets a message that says what to do."""

    def __init__(self, *args: Any, unlisted: str = "Choose one of the listed options.",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unlisted = unlisted
        self.type = "SelectField"  # the shared field partial styles it as the select it is

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, "", 0):
            return
        if self.data not in {value for value, *_ in self.iter_choices()}:
            raise ValidationError(self.unlisted)


@dataclass(slots=True)
class MatcherChoices:
    """What the matcher dropdowns offer, read once per request however many forms use it."""

    actions: dict[str, list[str]] = field(default_factory=action_choices)
    apps: list[str] = field(default_factory=seen_apps)
    models: list[str] = field(default_factory=seen_models)

    def apply(self, form: Any) -> None:
        """Fill a form's matcher selects, keeping values they hold that are no longer seen."""
        form.action.choices = {"": [ANY], **{category.capitalize(): [(a, a) for a in actions]
                                             for category, actions in self.actions.items()}}
        form.app.choices = _with_current(self.apps, form.app.data)
        form.model.choices = _with_current(self.models, form.model.data)


def _with_current(values: list[str], current: str | None) -> list[tuple[str, str]]:
    return [ANY, *((v, v) for v in sorted({*values, *([current] if current else [])}))]


def matcher_fields(*first: Any) -> type:
    """The event-matcher fields as a mixin; `first` validators run before each field's own
    (the rule form skips them for bindings of other kinds)."""

    class MatcherFields:
        action = ListedChoice("Action", validators=[*first, Optional()],
                              unlisted="Choose an action from the list.")
        app = ListedChoice("App", validators=[*first, Optional()],
                           unlisted="Choose an app from the list.",
                           description="The app that recorded the event.")
        model = ListedChoice("Model", validators=[*first, Optional()],
                             unlisted="Choose a model from the list.",
                             description="The kind of object the event is about.")
        client_ip = StringField("Client IP or network",
                                validators=[*first, Optional(), Length(max=64)],
                                description="An address or a CIDR network, e.g. 10.0.0.0/8.",
                                render_kw={"placeholder": "203.0.113.7 or 10.0.0.0/8"})

        def validate_client_ip(self, field: StringField) -> None:
            _matcher_check(client_ip=field.data)

        def validate_model(self, field: SelectField) -> None:
            _matcher_check(model=field.data)

        def criteria(self) -> dict[str, str | None]:
            return {name: getattr(self, name).data or None
                    for name in ("action", "client_ip", "app", "model")}

        def criteria_error(self) -> str | None:
            try:
                validate_event_matcher(**self.criteria())
            except PolicyConfigError as exc:
                return str(exc)
            return None

    return MatcherFields


def _matcher_check(**one: str | None) -> None:
    try:
        validate_event_matcher(**one)
    except PolicyConfigError as exc:
        raise ValidationError(str(exc)) from None


class PolicyFormBase(DirectoryForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=150)])
    execution_logging = BooleanField("Log every run",
                                     description="Record a policy_execution event each time "
                                                 "this policy runs (noisy; for debugging).")
    submit = SubmitField("Save policy")

    def __init__(self, *args: Any, policy: Policy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=policy, **kwargs)
        self.policy = policy

    def validate_name(self, field: StringField) -> None:
        if name_taken(Policy.name, Policy.id, field.data, self.policy and self.policy.id):
            raise ValidationError(f"A policy named '{field.data}' already exists.")


class EventMatcherForm(matcher_fields(), PolicyFormBase):
    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        error = self.criteria_error() if valid else None
        if error:
            self.form_errors.append(error)
        return valid and not error


class ExpressionForm(PolicyFormBase):
    expression = TextAreaField(
        "Expression", validators=[DataRequired(), Length(max=20_000)],
        render_kw={"rows": 8, "spellcheck": "false"},
        description='A Jinja expression over `event`; truthy passes, e.g. '
                    'event.action == "login_failed" and event.context.username == "root".')

    def validate_expression(self, field: TextAreaField) -> None:
        try:
            check(field.data, expression=True)
        except SandboxError as exc:
            raise ValidationError(str(exc)) from None


class ExpressionTestForm(DirectoryForm):
    """The tester posts the editor's expression with the event picked here."""

    expression = TextAreaField("Expression", validators=[DataRequired(message="Write an "
                                                                      "expression to test.")])
    event = SelectField("Test against", description="One of the 50 newest events.")

    def __init__(self, *args: Any, events: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event.choices = [(str(e.event_uuid), _describe(e)) for e in events]


def _describe(event: Any) -> str:
    user = (event.user or {}).get("username") or event.username or "anonymous"
    return f"{event.action} · {user} · {event.created:%Y-%m-%d %H:%M:%S} UTC"
