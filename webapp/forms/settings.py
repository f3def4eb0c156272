"""System settings form."""

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from webapp.events.retention import RetentionError, parse_retention


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
        try:
            parse_retention(field.data)
        except RetentionError as exc:
            raise ValidationError(str(exc)) from exc
