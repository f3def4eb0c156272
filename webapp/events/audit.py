"""Model change events with diffs, recorded in the same transaction as the change.

Registered models are watched through SQLAlchemy session hooks:
- on load and refresh each instance keeps a snapshot of its columns (the last known database
  state), so an attribute set on an expired instance or a JSON dict changed in place still
  diffs against what was really stored;
- every flush adds what changed to a per-transaction buffer keyed by object, so autoflush
  splitting one commit into several flushes still gives one event per object;
- before the commit the buffer becomes model_created / model_updated / model_deleted events
  through record(), flushed and committed together with the change.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstanceState, Session

from webapp.events.record import record
from webapp.events.sanitize import MASK, model_reference, sanitize
from webapp.models import EventAction

_BUFFER_KEY = "herald_audit_changes"
_SNAPSHOT_KEY = "herald_audit_snapshot"
_suppressed: ContextVar[bool] = ContextVar("herald_audit_suppressed", default=False)


@dataclass(frozen=True)
class Membership:
    """A many-to-many relation whose changes are told on the owning side (the group)."""

    relation: str  # the relationship attribute on the audited model
    diff_key: str  # the key in the owner's diff, e.g. "users"
    owner_is_self: bool  # Group.users: yes; User.groups: no, the group tells it


@dataclass(frozen=True)
class AuditSpec:
    """How one model is audited: which columns hold secrets, which are noise."""

    secret: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    memberships: tuple[Membership, ...] = ()


@dataclass
class Change:
    """Everything one transaction did to one object."""

    obj: Any
    reference: dict[str, Any] | None = None  # taken early for deletes, while still readable
    created: bool = False
    deleted: bool = False
    diff: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, list[Any]]] = field(default_factory=dict)


_registry: dict[type, AuditSpec] = {}


def register_audited(model: type, *, secret: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
                     memberships: tuple[Membership, ...] = ()) -> None:
    """Audit every create, update and delete of `model` (done once at import time)."""
    _registry[model] = AuditSpec(frozenset(secret), frozenset(ignore), memberships)
    sa.event.listen(model, "load", _snapshot_on_load)
    sa.event.listen(model, "refresh", _snapshot_on_refresh)


@contextmanager
def audit_suppressed() -> Iterator[None]:
    """Bulk maintenance that should not flood the log: no model events inside this block."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


# --- snapshots -------------------------------------------------------------------------------

def _snapshot_on_load(target: Any, _context: Any) -> None:
    _take_snapshot(sa.inspect(target))


def _snapshot_on_refresh(target: Any, _context: Any, _attrs: Any) -> None:
    """A refresh loads expired columns; a column already set again keeps its stored value."""
    state = sa.inspect(target)
    snapshot = state.info.setdefault(_SNAPSHOT_KEY, {})
    for key, value in _columns(state):
        if key not in state.committed_state:
            snapshot[key] = copy.deepcopy(value)


def _take_snapshot(state: InstanceState) -> None:
    state.info[_SNAPSHOT_KEY] = {key: copy.deepcopy(value) for key, value in _columns(state)}


def _columns(state: InstanceState) -> Iterator[tuple[str, Any]]:
    """Loaded column values only: touching an unloaded one would query inside a flush."""
    for attr in state.mapper.column_attrs:
        if attr.key in state.dict:
            yield attr.key, state.dict[attr.key]


# --- flush: collect ---------------------------------------------------------------------------

@sa.event.listens_for(Session, "before_flush")
def _collect_deletes(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Deleted rows are referenced before the flush, while they can still be read."""
    if _suppressed.get():
        return
    for obj in session.deleted:
        if type(obj) in _registry:
            change = _change_for(session, obj)
            change.deleted, change.reference = True, model_reference(obj)


@sa.event.listens_for(Session, "after_flush")
def _collect_writes(session: Session, _flush_context: Any) -> None:
    if _suppressed.get():
        return
    for obj in list(session.new) + list(session.dirty):
        spec = _registry.get(type(obj))
        if spec is None or obj in session.deleted:
            continue
        state = sa.inspect(obj)
        change = _change_for(session, obj)
        change.created = change.created or obj in session.new
        _merge_field_diff(change, spec, state)
        _collect_memberships(session, obj, spec)
        _take_snapshot(state)


def _merge_field_diff(change: Change, spec: AuditSpec, state: InstanceState) -> None:
    before = state.info.get(_SNAPSHOT_KEY, {})
    for key, value in _columns(state):
        if key in spec.ignore:
            continue
        old = sanitize(before.get(key)) if key in before else None
        new = sanitize(value)
        if old == new and not change.created:
            continue
        first = change.diff.get(key, {"previous_value": old})["previous_value"]
        change.diff[key] = {"previous_value": first, "new_value": new}


def _collect_memberships(session: Session, obj: Any, spec: AuditSpec) -> None:
    """Membership changes are told on the group, whichever side of the relation changed."""
    state = sa.inspect(obj)
    for membership in spec.memberships:
        history = state.attrs[membership.relation].history
        for verb, others in (("add", history.added), ("remove", history.deleted)):
            for other in others or ():
                owner, member = (obj, other) if membership.owner_is_self else (other, obj)
                _note_membership(_change_for(session, owner), membership.diff_key,
                                 verb, member.pk)


def _note_membership(change: Change, key: str, verb: str, member_pk: Any) -> None:
    members = change.members.setdefault(key, {"add": [], "remove": []})
    opposite = members["remove" if verb == "add" else "add"]
    if member_pk in opposite:
        opposite.remove(member_pk)  # added and removed again in one transaction: no change
    elif member_pk not in members[verb]:
        members[verb].append(member_pk)


def _change_for(session: Session, obj: Any) -> Change:
    buffer: dict[int, Change] = session.info.setdefault(_BUFFER_KEY, {})
    if id(obj) not in buffer:
        buffer[id(obj)] = Change(obj=obj)
    return buffer[id(obj)]


# --- commit: record ---------------------------------------------------------------------------

@sa.event.listens_for(Session, "before_commit")
def _record_changes(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this hook: collect its changes now
    if not session.info.get(_BUFFER_KEY):
        return
    for change in session.info.pop(_BUFFER_KEY).values():
        _record_change(change)
    session.flush()


def _record_change(change: Change) -> None:
    reference = change.reference or model_reference(change.obj)
    if change.deleted:
        if not change.created:
            record(EventAction.MODEL_DELETED, {"model": reference}, app="herald.audit")
        return
    secret = _registry[type(change.obj)].secret
    diff = {key: _masked(value) if key in secret else value
            for key, value in change.diff.items()
            if change.created or value["previous_value"] != value["new_value"]}
    diff.update(_membership_diff(change))
    if not diff:
        return
    action = EventAction.MODEL_CREATED if change.created else EventAction.MODEL_UPDATED
    record(action, {"model": reference, "diff": diff}, app="herald.audit")


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    """A secret's diff says that it was set or changed, never what it was or became. Masking
    happens after comparing, so a rotated secret is still a change."""
    return {side: MASK if value is not None else None for side, value in values.items()}


def _membership_diff(change: Change) -> dict[str, dict[str, Any]]:
    diff: dict[str, dict[str, Any]] = {}
    for key, members in change.members.items():
        entry = {verb: sorted(pks, key=str) for verb, pks in members.items() if pks}
        if entry:
            diff[key] = entry
    return diff


@sa.event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_BUFFER_KEY, None)
