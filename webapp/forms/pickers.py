"""A form field holding a user or a group that is chosen by searching for it: the picker.

With 100,000 users a <select> listing all of them is megabytes of HTML that nobody can scroll
through. The picker is a text box that asks the server for matches as one types
(templates/partials/_picker.html, static/js/picker.js, webapp.views.directory.pickers) next to
a hidden input that carries the chosen row's id or username under the field's own name, so a
form posts exactly what its <select> posted before and its handling does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import render_template, url_for
from markupsafe import Markup
from wtforms import Field
from wtforms.validators import StopValidation

from webapp.core.extensions import db
from webapp.directory.name_search import GROUPS, USERS, NameIndex

MAX_ID = 2**31 - 1  # beyond the integer keys: matches nothing (PostgreSQL would refuse it)


@dataclass(frozen=True)
class Source:
    """What a picker searches (`endpoint`, over `index`) and what its form posts: the row's
    key, or with `by_label` its label (a username)."""

    endpoint: str
    index: NameIndex
    noun: str
    by_label: bool = False

    def parse(self, text: str) -> Any:
        """The posted text as a value: a key (None when it is not one), or the label."""
        if self.by_label:
            return text
        return int(text) if text.isdigit() and int(text) <= MAX_ID else None

    def load(self, value: Any) -> Any | None:
        if not value:
            return None
        model = self.index.model
        if self.by_label:
            label = getattr(model, self.index.label)
            return db.session.scalar(sa.select(model).where(sa.func.lower(label) ==
                                                            str(value).lower()))
        return db.session.get(model, value)

    def value_of(self, row: Any) -> Any:
        return self.label_of(row) if self.by_label else self.index.key_of(row)

    def label_of(self, row: Any) -> str:
        return getattr(row, self.index.label)


USER_BY_ID = Source("directory.pick_users", USERS, "users")
USER_BY_NAME = Source("directory.pick_users", USERS, "users", by_label=True)
GROUP_BY_ID = Source("directory.pick_groups", GROUPS, "groups")


class PickerWidget:
    """Renders the shared partial; keyword arguments become the text box's attributes."""

    def __call__(self, field: PickerField, **kwargs: Any) -> Markup:
        kwargs["class"] = kwargs.pop("class_", kwargs.get("class", ""))
        return Markup(render_template("partials/_picker.html", field=field, attrs=kwargs))


class PickerField(Field):
    """`data` is the chosen row's key (or username), falsy when none is; `picked` the row.

    `unlisted` is the message for a value that names no row (`{value}` is replaced by what was
    posted); `search_args` are added to the search route's query, e.g. to leave out members.
    """

    widget = PickerWidget()

    def __init__(self, label: str | None = None, validators: Any = None, *, source: Source,
                 unlisted: str, placeholder: str = "", **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.source, self.unlisted = source, unlisted
        self.placeholder = placeholder or f"Type to search {source.noun}"
        self.search_args: dict[str, Any] = {}
        self._picked: tuple[Any, Any] | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = self.source.parse(str(valuelist[0]).strip())

    @property
    def posted(self) -> str:
        """The text the browser sent, "" when none."""
        return str(self.raw_data[0]).strip() if self.raw_data else ""

    @property
    def picked(self) -> Any | None:
        if self._picked is None or self._picked[0] != self.data:
            self._picked = (self.data, self.source.load(self.data))
        return self._picked[1]

    @property
    def search_url(self) -> str:
        return url_for(self.source.endpoint, **self.search_args)

    @property
    def shown(self) -> str:
        """What the text box shows: the chosen row's label; else a posted username that named
        nobody, to be corrected (a posted id that named nothing means nothing to a person)."""
        if self.picked is not None:
            return self.source.label_of(self.picked)
        return self.posted if self.source.by_label else ""

    @property
    def chosen(self) -> str:
        """What the hidden input carries: the chosen row's value, "" when none."""
        return "" if self.picked is None else str(self.source.value_of(self.picked))

    def pre_validate(self, form: Any) -> None:
        """A value naming no row gets `unlisted` alone (0 is "none", as the selects had it)."""
        if self.posted and self.data != 0 and self.picked is None:
            raise StopValidation(self.unlisted.format(value=self.posted))
