"""System settings forms: each card on the Settings page posts its own form."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from webapp.events.retention import RetentionError, parse_retention

#: Beyond this a "stream" would hold a request open for minutes: use the background.
MAX_STREAM_LIMIT = 10_000_000


class RetentionForm(FlaskForm):
    event_retention = StringField(
        "Event retention",
        validators=[DataRequired(), Length(max=200)],
        description="How long new events are kept, as unit=number pairs separated by ';', "
                    "e.g. days=365 or hours=1;minutes=30. Units: weeks, days, hours, minutes, "
                    "seconds. The expiry is fixed when an event is recorded, so a change applies "
                    "to new events; use “Re-apply to existing events” to update older ones.",
    )
    submit = SubmitField("Save")

    def validate_event_retention(self, field: StringField) -> None:
        _check_retention(field)


class ExportSettingsForm(FlaskForm):
    """How big an export may be before it runs in the background, and how long files stay."""

    export_stream_limit = IntegerField(
        "Download at once up to",
        validators=[InputRequired(), NumberRange(min=1, max=MAX_STREAM_LIMIT)],
        description="Exports of at most this many events download straight away; larger ones "
                    "run in the background and appear under Events › Reports.",
    )
    export_retention = StringField(
        "Keep export files for",
        validators=[DataRequired(), Length(max=200)],
        description="How long background export files (and the list of exports) are kept, "
                    "e.g. days=7. The cleanup job deletes them afterwards.",
    )
    submit_exports = SubmitField("Update export settings")

    def validate_export_retention(self, field: StringField) -> None:
        _check_retention(field)


def _check_retention(field: StringField) -> None:
    try:
        parse_retention(field.data)
    except RetentionError as exc:
        raise ValidationError(str(exc)) from exc


class NotificationSettingsForm(FlaskForm):
    """How long read notifications and settled deliveries stay."""

    notification_retention = StringField(
        "Keep read notifications for",
        validators=[DataRequired(), Length(max=200)],
        description="Notifications someone has read, and deliveries that were sent or gave up, "
                    "are deleted by the cleanup job after this long, e.g. days=30. Unread "
                    "notifications and deliveries still being retried are kept.",
    )
    submit_notifications = SubmitField("Update notification settings")

    def validate_notification_retention(self, field: StringField) -> None:
        _check_retention(field)
