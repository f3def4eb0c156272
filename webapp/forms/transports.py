"""The transport form: one form for every mode, where each mode's own fields are validated
and the others ignored (webapp.notifications.transport_admin.MODE_FIELDS says which is which;
saving resets the ignored ones)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from wtforms import (
    BooleanField,
    Field,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from webapp.forms.directory import DirectoryForm, name_taken
from webapp.models import NotificationTransport, TransportMode, WebhookMapping
from webapp.notifications.transport_admin import (
    MODE_FIELDS,
    MODE_LABELS,
    TransportSettings,
    check_ca_bundle,
    check_webhook_url,
)

MAX_CA_BUNDLE_LENGTH = 200_000
#: Form fields that edit a setting under another name.
_SETTING_OF = {"clear_signing_secret": "signing_secret"}


class ForModes:
    """Validate the field only when the chosen mode reads it: otherwise drop its errors and
    stop, as Optional does. An empty value stops too, as an error with `required`."""

    def __init__(self, required: str | None = None) -> None:
        self.required = required

    def __call__(self, form: TransportForm, field: Field) -> None:
        if not form.reads(field.name):
            field.errors.clear()
            raise StopValidation()
        if not field.data:
            raise StopValidation(self.required)


def _mapping_select(label: str, description: str) -> SelectField:
    return SelectField(label, coerce=int, validate_choice=False, validators=[ForModes()],
                       description=description)


class TransportForm(DirectoryForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=150)])
    mode = SelectField("Mode", choices=list(MODE_LABELS.items()),
                       default=TransportMode.WEBHOOK.value,
                       description="Local shows the notification in the recipient's bell.")
    webhook_url = StringField(
        "Webhook URL", validators=[ForModes("Enter the receiver's URL."), Length(max=2048)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"},
        description="http:// or https://. For Discord, append /slack to its webhook URL.")
    verify_tls = BooleanField("Verify the receiver's TLS certificate", default=True,
                              validators=[ForModes()])
    ca_bundle = TextAreaField(
        "CA certificates (PEM)", validators=[ForModes(), Length(max=MAX_CA_BUNDLE_LENGTH)],
        render_kw={"rows": 4, "spellcheck": "false", "class": "font-monospace"},
        description="Optional. Trust these instead of the system's certificate authorities.")
    signing_secret = PasswordField("Signing secret", validators=[ForModes(), Length(max=255)],
                                   render_kw={"autocomplete": "new-password"})
    clear_signing_secret = BooleanField("Remove the signing secret", validators=[ForModes()])
    webhook_mapping_body_id = _mapping_select(
        "Body mapping", "Without one, the body is authentik's plus the event.")
    webhook_mapping_headers_id = _mapping_select(
        "Headers mapping", "Optional extra HTTP headers.")
    email_subject_prefix = StringField("Subject prefix", validators=[ForModes(), Length(max=255)],
                                       default="Herald Notification: ")
    email_template = SelectField("Email template", default="email/event_notification.html",
                                 validators=[ForModes("Choose a template.")])
    send_once = BooleanField("Send once", validators=[ForModes()],
                             description="One message per event instead of one per recipient "
                                         "(for a chat channel or a SIEM).")
    submit = SubmitField("Save transport")

    def __init__(self, *args: Any, transport: NotificationTransport | None = None,
                 mappings: list[WebhookMapping], **kwargs: Any) -> None:
        super().__init__(*args, obj=transport, **kwargs)
        self.transport = transport
        self.mapping_ids = {mapping.id for mapping in mappings}
        listed = [(mapping.id, mapping.name) for mapping in mappings]
        self.webhook_mapping_body_id.choices = [(0, "— Default body —"), *listed]
        self.webhook_mapping_headers_id.choices = [(0, "— No extra headers —"), *listed]
        self.email_template.choices = email_templates(transport)
        self.signing_secret.description = (
            "A secret is set — leave blank to keep it." if transport and transport.signing_secret
            else "Optional. Every request then carries X-Herald-Signature (HMAC-SHA256).")

    def reads(self, name: str) -> bool:
        """Whether the chosen mode uses the setting behind field `name`."""
        return _SETTING_OF.get(name, name) in MODE_FIELDS.get(self.mode.data, frozenset())

    def modes_of(self, field: Field) -> str:
        """The modes that show `field`, for the page's mode switch (data-modes)."""
        setting = _SETTING_OF.get(field.name, field.name)
        return " ".join(mode for mode, used in MODE_FIELDS.items() if setting in used)

    def validate_name(self, field: StringField) -> None:
        own = self.transport.id if self.transport else None
        if name_taken(NotificationTransport.name, NotificationTransport.id, field.data, own):
            raise ValidationError(f"A transport named '{field.data}' already exists.")

    def validate_webhook_url(self, field: StringField) -> None:
        try:
            check_webhook_url(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_ca_bundle(self, field: TextAreaField) -> None:
        try:
            check_ca_bundle(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_webhook_mapping_body_id(self, field: SelectField) -> None:
        self._check_mapping(field)

    def validate_webhook_mapping_headers_id(self, field: SelectField) -> None:
        self._check_mapping(field)

    def _check_mapping(self, field: SelectField) -> None:
        if field.data not in self.mapping_ids:
            raise ValidationError("Choose a mapping from the list.")

    def validate_email_template(self, field: SelectField) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError("Choose a template from the list.")

    def settings(self) -> TransportSettings:
        """The submitted settings; a blank secret keeps the stored one."""
        secret = "" if self.clear_signing_secret.data else (self.signing_secret.data or None)
        return TransportSettings(
            name=self.name.data, mode=self.mode.data, send_once=self.send_once.data,
            webhook_url=self.webhook_url.data or "", verify_tls=self.verify_tls.data,
            ca_bundle=(self.ca_bundle.data or "").strip(), signing_secret=secret,
            webhook_mapping_body_id=self.webhook_mapping_body_id.data or None,
            webhook_mapping_headers_id=self.webhook_mapping_headers_id.data or None,
            email_subject_prefix=_spaced(self.email_subject_prefix.data),
            email_template=self.email_template.data or "")


def _spaced(prefix: str | None) -> str:
    """The form trims text, but the subject is prefix + title: keep them a space apart."""
    return f"{prefix} " if prefix else ""


def email_templates(transport: NotificationTransport | None) -> list[tuple[str, str]]:
    """The HTML templates under email/ (the only ones the email transport renders), plus the
    transport's own if it names another."""
    names = current_app.jinja_env.list_templates(
        filter_func=lambda name: name.startswith("email/") and name.endswith(".html"))
    if transport and transport.email_template and transport.email_template not in names:
        names.append(transport.email_template)
    return [(name, name) for name in sorted(names)]
