"""Forms of the Directory pages: users, groups, memberships and API tokens.

Every limit here mirrors a column size, so bad input is answered next to its field instead of
failing in the database.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    PasswordField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import TextArea

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.forms.auth import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from webapp.forms.pickers import GROUP_BY_ID, USER_BY_ID, PickerField
from webapp.models import Group, Token, User

MAX_ATTRIBUTES_LENGTH = 20_000
MAX_ATTRIBUTES_DEPTH = 20


def clean_text(value: str | None) -> str:
    """Trim, and read a field the browser did not send as empty. (NUL characters never get
    this far: webapp.web.security refuses them in any request.)"""
    return (value or "").strip()


class DirectoryForm(FlaskForm):
    """Adds `clean_text` to every text field, so no field can forget it, and gives each
    form's CSRF input its own id, so two forms on one page stay valid HTML."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if options["name"] == self.csrf_field_name:
                options["id"] = f"{type(form).__name__.lower()}-csrf-token"
            elif issubclass(unbound_field.field_class, StringField) and \
                    not issubclass(unbound_field.field_class, PasswordField):
                options["filters"] = (*unbound_field.kwargs.get("filters", ()), clean_text)
            return super().bind_field(form, unbound_field, options)


class JSONObjectField(Field):
    """A textarea holding a JSON object; `data` is the parsed dict.

    Invalid input keeps the submitted text on the page, so the administrator can fix it.
    """

    widget = TextArea()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return json.dumps(self.data or {}, indent=2, sort_keys=True, ensure_ascii=False)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0])  # not stripped: error positions match what the user sees
        if len(text) > MAX_ATTRIBUTES_LENGTH:
            raise ValueError(f"Attributes can be at most {MAX_ATTRIBUTES_LENGTH:,} characters.")
        self.data = parse_json_object(text) if text.strip() else {}


def parse_json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"This is not valid JSON: {exc.msg} (line {exc.lineno}, "
                         f"column {exc.colno}).") from exc
    except RecursionError as exc:
        raise ValueError("The JSON is nested too deeply.") from exc
    if not isinstance(value, dict):
        raise ValueError('Attributes must be a JSON object, like {"team": "ops"}.')
    _check_storable(value, depth=0)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in attributes: JSON has no such number.")


def _check_storable(value: Any, depth: int) -> None:
    """Refuse what a JSON column cannot hold portably: deep nesting, NUL characters and
    infinite numbers (1e999 parses as one)."""
    if depth > MAX_ATTRIBUTES_DEPTH:
        raise ValueError(f"Attributes can be nested at most {MAX_ATTRIBUTES_DEPTH} levels deep.")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("Attributes cannot contain NUL characters (\\u0000).")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Attributes can only hold finite numbers.")
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        _check_storable(key, depth + 1)
        _check_storable(item, depth + 1)


def name_taken(column: sa.ColumnElement[str], pk_column: sa.ColumnElement[Any], name: str,
                own_pk: Any = None) -> bool:
    """Whether another row already uses `name` in `column`, ignoring case."""
    query = sa.select(pk_column).where(sa.func.lower(column) == name.lower())
    if own_pk is not None:
        query = query.where(pk_column != own_pk)
    return db.session.scalar(query.limit(1)) is not None


def _password_field(label: str, required: bool) -> PasswordField:
    first = DataRequired() if required else Optional()
    return PasswordField(label, validators=[first, Length(min=MIN_PASSWORD_LENGTH,
                                                          max=MAX_PASSWORD_LENGTH)],
                         render_kw={"autocomplete": "new-password"},
                         description=f"At least {MIN_PASSWORD_LENGTH} characters.")


class UserProfileMixin:
    name = StringField("Name", validators=[Length(max=255)])
    email = StringField("Email", validators=[Optional(), Length(max=254),
                                             Email(message="Enter a valid email address.")])
    is_active = BooleanField("Active", default=True,
                             description="Inactive users cannot sign in.")
    is_superuser = BooleanField("Superuser", description="Superusers see every admin page.")


class UserCreateForm(UserProfileMixin, DirectoryForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=150)],
                           render_kw={"autocomplete": "off"})
    password = _password_field("Password", required=False)
    submit = SubmitField("Create user")

    def validate_username(self, field: StringField) -> None:
        if name_taken(User.username, User.id, field.data):
            raise ValidationError(f"A user named '{field.data}' already exists.")


class UserEditForm(UserProfileMixin, DirectoryForm):
    attributes = JSONObjectField("Attributes", render_kw={"rows": 6, "spellcheck": "false"},
                                 description="A JSON object of custom data, e.g. "
                                             '{"department": "ops"}.')
    submit = SubmitField("Save changes")


class SetPasswordForm(DirectoryForm):
    new_password = _password_field("New password", required=True)
    submit = SubmitField("Set password")


class GroupForm(DirectoryForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=150)])
    parent_id = PickerField("Parent group", source=GROUP_BY_ID,
                            unlisted="Choose a group from the list.",
                            placeholder="No parent: type to search groups",
                            description="Optional. A group cannot sit below itself or one of "
                                        "its own subgroups.")
    is_superuser = BooleanField("Superuser group",
                                description="Members of this group, and of every group below "
                                            "it, are administrators.")
    attributes = JSONObjectField("Attributes", render_kw={"rows": 5, "spellcheck": "false"},
                                 description="A JSON object of custom data.")
    submit = SubmitField("Save group")

    def __init__(self, *args: Any, group: Group | None = None, refused: set[int],
                 **kwargs: Any) -> None:
        """`refused` are the ids that may not become the parent: they would make a cycle."""
        super().__init__(*args, **kwargs)
        self.group = group
        self.refused = refused
        if group is not None:
            self.parent_id.search_args = {"skip_tree_of": group.num_pk}

    def validate_name(self, field: StringField) -> None:
        own = self.group.num_pk if self.group else None
        if name_taken(Group.name, Group.num_pk, field.data, own):
            raise ValidationError(f"A group named '{field.data}' already exists.")

    def validate_parent_id(self, field: PickerField) -> None:
        if field.data in self.refused:
            raise ValidationError("A group cannot be its own parent or sit below one of its "
                                  "own subgroups: that would make a cycle.")


class MemberForm(DirectoryForm):
    user_id = PickerField("User", validators=[DataRequired("Choose a user to add.")],
                          source=USER_BY_ID, unlisted="Choose a user from the list.")
    submit = SubmitField("Add member")

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group
        self.user_id.search_args = {"skip_members_of": group.num_pk}

    def validate_user_id(self, field: PickerField) -> None:
        if field.picked in self.group.users:
            raise ValidationError(f"{field.picked.username} already is a member.")


IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class TokenForm(DirectoryForm):
    user_id = PickerField("User", validators=[DataRequired("Choose the user the token acts "
                                                           "as.")],
                          source=USER_BY_ID, unlisted="Choose a user from the list.",
                          description="The token acts as this user.")
    identifier = StringField(
        "Identifier",
        validators=[DataRequired(), Length(max=255),
                    Regexp(IDENTIFIER_PATTERN, message="Use letters, digits, '.', '_' and '-', "
                                                       "starting with a letter or digit.")],
        description="A unique name for the token, e.g. ci-deploy.",
        render_kw={"autocomplete": "off"})
    description = StringField("Description", validators=[Length(max=500)])
    expires = DateTimeLocalField("Expires (UTC)", validators=[Optional()],
                                 description="Optional. Leave empty for a token that never "
                                             "expires.")
    submit = SubmitField("Create token")

    def validate_identifier(self, field: StringField) -> None:
        if name_taken(Token.identifier, Token.id, field.data):
            raise ValidationError(f"A token named '{field.data}' already exists.")

    def validate_expires(self, field: DateTimeLocalField) -> None:
        if field.data is None:  # unreadable: the field already says "Not a valid datetime"
            return
        field.data = field.data.replace(tzinfo=UTC)
        if field.data <= utcnow():
            raise ValidationError("The expiry must be in the future.")


class ConfirmForm(DirectoryForm):
    """A delete button: only the CSRF token and a submit."""

    submit = SubmitField("Delete")
