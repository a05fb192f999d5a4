"""Who sent a message and which group it came from, without three queries per message.

Each process keeps the people and groups it has looked up (with their workshops and platform
ids), keyed by the directory's version: one row (`directory_version`) that every change to
people, identities, lead assignments, groups or workshops raises in the same transaction. A
message reads that one number (a primary-key read) and, when it differs from the cache's, drops
the cache. So a change made by any gunicorn worker, the jobs process or the CLI is seen by the
next message every other process handles after the commit — never a stale permission or binding,
and no TTL to tune.

The version is raised where the writes meet the database: every INSERT, UPDATE or DELETE sent to
one of those tables on any connection (`before_execute` on every Engine) — ORM flushes, the ORM's
bulk statements (`session.execute(update(PersonIdentity)…)`, as the directory sync's rename does),
Core statements on `session.connection()`, the legacy `bulk_*` methods, even textual SQL that
names the table — raises it once per transaction (again after a rolled-back savepoint). A flush
that changes nothing sends nothing and raises nothing (a directory sync or master import that
finds everything as it was leaves every cache warm). Alembic migrations are exempt (env.py): the
version row may not exist yet, and no process serves messages during them.

Cached objects are detached copies; each session gets its own attached instance through
`Session.merge(load=False)` (no SQL). A transaction that changed the directory itself reads it
from the database for the rest of its life.
"""
from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

from storage.models import DirectoryVersion, GroupBinding, LeadAssignment, Person, PersonIdentity, Workshop

DIRECTORY = (Person, PersonIdentity, LeadAssignment, GroupBinding, Workshop)
TABLES = frozenset(cls.__tablename__ for cls in DIRECTORY)
RAISED = "directory_version_raised"   # Connection.info: the root transaction that raised it …
CHANGED = "directory_changed"          # … and the one that wrote the directory (kept past a savepoint)
READ = "directory_version_read"
MIGRATING = "linerelay_migrating"      # execution option set by the Alembic environment
_RAISE = update(DirectoryVersion).where(DirectoryVersion.id == 1).values(version=DirectoryVersion.version + 1)
_TEXT_WRITE = re.compile(r"\b(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+[\"`\[]?(\w+)", re.IGNORECASE)
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


_VERSION = select(DirectoryVersion.__table__.c.version).where(DirectoryVersion.__table__.c.id == 1)   # Core: ~4× cheaper


def current_version(session: Session) -> int | None:
    """The directory's version, None when it cannot be trusted (no row; changed in this
    transaction, also by the pending changes a query would flush first). Read once per
    transaction, by a Core statement (~4× cheaper than through the ORM)."""
    conn = session.connection()
    if READ not in session.info and not changed_here(conn):
        if session.autoflush:   # as a query through the session would: a pending change raises it first
            session.flush()
        session.info[READ] = conn.execute(_VERSION).scalar()
    return None if changed_here(conn) else session.info.get(READ)


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


def changed_here(conn: Connection) -> bool:
    """Whether the transaction in progress on `conn` has written the directory (and raised it)."""
    changed = conn.info.get(CHANGED)
    return changed is not None and changed is conn.get_transaction()


def writes_directory(statement: Any) -> bool:
    """An INSERT, UPDATE or DELETE of people, identities, lead assignments, groups or workshops
    (a Core or ORM statement, or SQL text that names the table)."""
    if isinstance(statement, UpdateBase):
        return getattr(getattr(statement, "table", None), "name", None) in TABLES
    if isinstance(statement, (str, TextClause)):
        text = statement if isinstance(statement, str) else statement.text
        return any(m.group(1).lower() in TABLES for m in _TEXT_WRITE.finditer(text))
    return False


@event.listens_for(Engine, "before_execute")
def _on_execute(conn: Connection, statement, _multiparams, _params, execution_options) -> None:
    if not writes_directory(statement) or execution_options.get(MIGRATING):
        return
    raised = conn.info.get(RAISED)
    if raised is not None and raised is conn.get_transaction() or not _has_version_table(conn):
        return
    conn.execute(_RAISE)   # in the same transaction as the write (it autobegins one if need be)
    conn.info[RAISED] = conn.info[CHANGED] = conn.get_transaction()


_versioned: weakref.WeakSet[Engine] = weakref.WeakSet()


def _has_version_table(conn: Connection) -> bool:
    """Whether the schema has the version row's table (not before migration 0013, where nobody can
    cache either); looked up once per engine once it is there."""
    if conn.engine in _versioned:
        return True
    if not inspect(conn).has_table(DirectoryVersion.__tablename__):
        return False
    _versioned.add(conn.engine)
    return True


@event.listens_for(Engine, "rollback_savepoint")
def _on_savepoint_rollback(conn: Connection, _name, _context) -> None:
    conn.info.pop(RAISED, None)   # the raise may have been inside it: the next write raises again


@event.listens_for(Session, "after_transaction_end")
def _forget_version(session: Session, transaction) -> None:
    if transaction.parent is None:   # the version read belongs to the outermost transaction
        session.info.pop(READ, None)
