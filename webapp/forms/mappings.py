"""The webhook mapping form.

A mapping is stored without a purpose: any transport may pick it as its body or its headers.
The form asks which use the administrator has in mind ("Check as") and validates the
expression for that purpose, and also for every purpose a transport already uses it for, so
an edit can never break a transport that is sending. The headers check is the stricter one
(an object of strings), so a mapping checked as headers also works as a body.
"""

from __future__ import annotations

from typing import Any

from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from webapp.forms.directory import DirectoryForm, name_taken
from webapp.models import WebhookMapping
from webapp.notifications.mappings import MappingError, Purpose, validate_mapping
from webapp.notifications.transport_admin import MAX_EXPRESSION_LENGTH

PURPOSES: list[tuple[Purpose, str]] = [("body", "Body: any JSON value"),
                                       ("headers", "Headers: a JSON object of strings")]


class MappingForm(DirectoryForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=150)])
    purpose = SelectField("Check as", choices=PURPOSES,
                          description="What the live render and the check on save expect.")
    expression = TextAreaField(
        "Expression", validators=[DataRequired(), Length(max=MAX_EXPRESSION_LENGTH)],
        render_kw={"rows": 14, "spellcheck": "false", "class": "font-monospace"},
        description="A Jinja template that renders JSON. Variables: event, notification, user; "
                    "wrap values with tojson, e.g. {{ event.action | tojson }}.")
    submit = SubmitField("Save mapping")

    def __init__(self, *args: Any, mapping: WebhookMapping | None = None,
                 in_use: list[Purpose] = (), **kwargs: Any) -> None:
        """`in_use`: the purposes transports use the mapping for (checked on every save)."""
        super().__init__(*args, obj=mapping, **kwargs)
        self.mapping = mapping
        self.in_use = list(in_use)
        if not self.is_submitted() and self.in_use:
            self.purpose.data = "headers" if "headers" in self.in_use else "body"

    def validate_name(self, field: StringField) -> None:
        own = self.mapping.id if self.mapping else None
        if name_taken(WebhookMapping.name, WebhookMapping.id, field.data, own):
            raise ValidationError(f"A mapping named '{field.data}' already exists.")

    def validate_expression(self, field: TextAreaField) -> None:
        chosen = [self.purpose.data] if self.purpose.data in dict(PURPOSES) else []
        for purpose in dict.fromkeys([*chosen, *self.in_use]):
            try:
                validate_mapping(field.data, purpose)
            except MappingError as exc:
                used = " (a transport uses it so)" if purpose in self.in_use else ""
                raise ValidationError(f"{exc}{used}") from None
