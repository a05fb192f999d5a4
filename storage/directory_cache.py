"""Who sent a message and which group it came from, without three queries per message.

Each process keeps the people and groups it has looked up (with their workshops and platform
ids), keyed by the directory's version: one row (`directory_version`) that every change to
people, identities, lead assignments, groups or workshops raises in the same transaction, through
the ORM (`before_flush`) or a bulk UPDATE/DELETE/INSERT (`do_orm_execute`). A message reads that
one number (a primary-key read) and, when it differs from the cache's, drops the cache. So a
change made by any gunicorn worker, the jobs process or the CLI is seen by the next message every
other process handles after the commit — never a stale permission or binding, and no TTL to tune.

Cached objects are detached copies; each session gets its own attached instance through
`Session.merge(load=False)` (no SQL). A transaction that changed the directory itself reads it
from the database for the rest of its life. Raw SQL that writes these tables outside the ORM is
not seen: write them through the ORM (every writer in this code base does).
"""
from __future__ import annotations

import threading
import weakref
from itertools import chain
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached

from storage.models import DirectoryVersion, GroupBinding, LeadAssignment, Person, PersonIdentity, Workshop

DIRECTORY = (Person, PersonIdentity, LeadAssignment, GroupBinding, Workshop)
TABLES = frozenset(cls.__tablename__ for cls in DIRECTORY)
CHANGED = "directory_changed"
READ = "directory_version_read"
_MISSING = object()


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: int | None = None
        self.entries: dict[tuple, Any] = {}

    def get(self, version: int, key: tuple) -> Any:
        with self.lock:
            if version != self.version:
                return _MISSING
            return self.entries.get(key, _MISSING)

    def put(self, version: int, key: tuple, value: Any) -> None:
        with self.lock:
            if version != self.version:
                self.version, self.entries = version, {}
            self.entries[key] = value


_caches: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(session: Session) -> _Cache:
    engine = session.get_bind().engine
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = _Cache()
        return cache


def current_version(session: Session) -> int | None:
    """The directory's version, None when it cannot be trusted (no row; changed in this
    transaction). Read once per transaction."""
    if session.info.get(CHANGED):
        return None
    if READ not in session.info:
        session.info[READ] = session.scalar(select(DirectoryVersion.version).where(DirectoryVersion.id == 1))
    return session.info[READ]


def cached(session: Session, key: tuple, load: Callable[[], Any]) -> Any:
    """Plain data derived from the directory (never ORM objects): `load()` once per version."""
    version = current_version(session)
    if version is None:
        return load()
    cache = _cache(session)
    value = cache.get(version, key)
    if value is _MISSING:
        value = load()
        cache.put(version, key, value)
    return value


def sender_and_group(session: Session, identity: str, user_id: str, platform: str,
                     chat_id: str | None) -> tuple[Person | None, GroupBinding | None]:
    """The person with `user_id` on platform `identity` and the group bound to `chat_id` on
    `platform` (None for a direct chat), attached to `session`."""
    from storage.directory import group_by_chat, person_by_platform_id
    version = current_version(session)
    if version is None:
        return (person_by_platform_id(session, identity, user_id),
                group_by_chat(session, platform, chat_id) if chat_id else None)
    cache = _cache(session)
    person = _cached(session, cache, version, ("person", identity, user_id), _detached_person,
                     lambda: person_by_platform_id(session, identity, user_id))
    group = _cached(session, cache, version, ("group", platform, chat_id), _detached_group,
                    lambda: group_by_chat(session, platform, chat_id)) if chat_id else None
    return person, group


def _cached(session: Session, cache: _Cache, version: int, key: tuple, detach, load):
    snapshot = cache.get(version, key)
    if snapshot is _MISSING:
        found = load()
        cache.put(version, key, None if found is None else detach(found))
        return found
    return None if snapshot is None else session.merge(snapshot, load=False)


def _copy(obj):
    cls = type(obj)
    return cls(**{attr.key: getattr(obj, attr.key) for attr in inspect(cls).column_attrs})


def _detached_person(person: Person) -> Person:
    copy = _copy(person)
    workshops = [_copy(w) for w in person.workshops]
    identities = [_copy(i) for i in person.identities]
    copy.workshops, copy.identities = workshops, identities
    for obj in (*workshops, *identities, copy):
        make_transient_to_detached(obj)
    return copy


def _detached_group(group: GroupBinding) -> GroupBinding:
    copy = _copy(group)
    if group.workshop is not None:
        copy.workshop = _copy(group.workshop)
        make_transient_to_detached(copy.workshop)
    make_transient_to_detached(copy)
    return copy


def _raise_version(session: Session) -> None:
    session.info[CHANGED] = True
    session.connection().execute(update(DirectoryVersion).where(DirectoryVersion.id == 1)
                                 .values(version=DirectoryVersion.version + 1))


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _ctx, _instances) -> None:
    if any(isinstance(obj, DIRECTORY) for obj in chain(session.new, session.dirty, session.deleted)):
        _raise_version(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_version(session: Session, transaction) -> None:
    if transaction.parent is None:   # the version read belongs to the outermost transaction
        session.info.pop(READ, None)
        session.info.pop(CHANGED, None)


@event.listens_for(Session, "do_orm_execute")
def _on_bulk(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in TABLES:
            _raise_version(state.session)
