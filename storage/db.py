"""Engine and session factory for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on, and every transaction starts with
`BEGIN IMMEDIATE`: writers queue on the database lock instead of failing half-way with
"database is locked" at their first write, which is what keeps concurrent reports on one
step from losing an update. PostgreSQL gets the same guarantee from row locks
(`SELECT ... FOR UPDATE` in the domain layer).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


READ_ONLY = "linerelay_read_only"   # the execution option of `make_read_session_factory`'s sessions


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine with the pragmas and transaction behaviour LineRelay relies on."""
    from storage import directory_cache  # noqa: F401  (its listeners raise the directory's version)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # Threads of one process queue on this lock rather than on SQLite's busy handler, which
    # sleeps in growing steps (up to 100 ms) and made the slowest callbacks take seconds.
    # Other processes (gunicorn workers) still meet at SQLite's lock, through busy_timeout.
    writer = threading.Lock()
    holder = threading.local()

    def release(conn):
        if getattr(holder, "held", False) and not conn.get_execution_options().get(READ_ONLY):
            holder.held = False
            writer.release()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get(READ_ONLY):
            # A snapshot (WAL): it neither waits for the writer nor holds it up, and cannot write.
            _query_only(conn, True)
            conn.exec_driver_sql("BEGIN")
            return
        _query_only(conn, False)
        if not getattr(holder, "held", False):
            writer.acquire()
            holder.held = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(conn)
            raise

    event.listen(engine, "commit", release)
    event.listen(engine, "rollback", release)


def _query_only(conn, on: bool) -> None:
    """SQLite's own guard against writing, set on a pooled connection only when it changes."""
    info = conn.connection.info
    if info.get("query_only", False) != on:
        conn.exec_driver_sql(f"PRAGMA query_only={'ON' if on else 'OFF'}")
        info["query_only"] = on


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for pages and reads that change nothing (the board, an order page, the API's
    GETs, an export). On SQLite each is a deferred snapshot: it takes no part in the writers'
    queue, so a slow page never holds up a 报工, and SQLite refuses any write in it. Everywhere a
    flush in one raises."""
    factory = sessionmaker(bind=engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
    event.listen(factory, "before_flush", _refuse_flush)
    return factory


class ReadOnlySession(RuntimeError):
    """A session made to read was asked to write."""


def _refuse_flush(session, _context, _instances) -> None:
    raise ReadOnlySession("a read-only session was asked to write: use Session, not ReadSession")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    from storage import directory_cache  # noqa: F401  (its listeners raise the directory's version)
    return sessionmaker(bind=engine, expire_on_commit=False)


def writing_connection(session: Session) -> Connection:
    """The session's connection for a plain statement that writes: in a read-only session it
    raises `ReadOnlySession`, as a flush there does."""
    conn = session.connection()
    if conn.get_execution_options().get(READ_ONLY):
        _refuse_flush(session, None, None)
    return conn


_INSERTS: dict = {}


def insert_now(session: Session, obj: T) -> T:
    """Write a new object's row now with one INSERT … RETURNING, and keep the object in the
    session as that row (persistent, every column as stored). What a flush would do for one new
    object, without a unit of work over everything else the session holds: the hot path's
    changes are written by the commit's one flush, and this row's id is known at once."""
    from sqlalchemy import inspect, insert
    from sqlalchemy.orm import make_transient_to_detached
    if session.in_nested_transaction():   # a savepoint rolled back must take the object out again: as a flush does
        session.add(obj)
        session.flush()
        return obj
    mapper = inspect(obj).mapper
    table = mapper.local_table
    statement = _INSERTS.get(table)
    if statement is None:   # built once per table: building costs more than running it
        statement = _INSERTS[table] = insert(table).returning(*table.c)
    given = vars(obj)
    values = {prop.columns[0].key: given[prop.key] for prop in mapper.column_attrs if prop.key in given}
    row = writing_connection(session).execute(statement, values).one()._mapping
    for prop in mapper.column_attrs:
        setattr(obj, prop.key, row[prop.columns[0]])
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


_UPDATES: dict = {}


def write_changes(session: Session, classes: tuple[type, ...]) -> None:
    """Write the changed columns of the session's changed objects of `classes` now, one UPDATE
    by primary key each, and keep each object as its row: what a flush does for them, without a
    unit of work (on the hot path it cost more than the statements). `classes` in the lock
    order, each class's rows by primary key, as a flush writes them. An object whose
    relationships changed, and everything inside a savepoint, is left to the flush."""
    from sqlalchemy import bindparam, inspect, update
    from sqlalchemy.orm.base import NO_VALUE
    from sqlalchemy.orm.exc import StaleDataError
    if session.in_nested_transaction():
        return
    conn = None
    states = sorted((inspect(obj) for obj in session.dirty if isinstance(obj, classes)),   # as a flush orders them
                    key=lambda state: (classes.index(state.class_), state.identity))
    for state in states:
        mapper = state.mapper
        columns = mapper.column_attrs
        if not state.committed_state or any(key not in columns or key not in state.dict or columns[key].columns[0].primary_key
                                            for key in state.committed_state):
            continue   # a relationship, an attribute unset, a primary key changed: the flush's
        keys = tuple(sorted(key for key, old in state.committed_state.items()   # set to what it was: no change
                            if old is NO_VALUE or not columns[key].columns[0].type.compare_values(old, state.dict[key])))
        if not keys:
            state._commit_all(state.dict, session.identity_map)
            continue
        if conn is None:
            conn = writing_connection(session)
        table = mapper.local_table
        statement = _UPDATES.get((table, keys))
        if statement is None:   # built once per table and set of columns
            (pk,) = mapper.primary_key
            statement = _UPDATES[(table, keys)] = (
                update(table).where(pk == bindparam("b_pk"))
                .values({columns[key].columns[0]: bindparam(f"b_{key}") for key in keys}))
        values = {f"b_{key}": state.dict[key] for key in keys}
        values["b_pk"] = state.identity[0]
        if conn.execute(statement, values).rowcount != 1:   # deleted meanwhile: as the flush says it
            raise StaleDataError(f"UPDATE of {table.name} {values['b_pk']} matched no row")
        state._commit_all(state.dict, session.identity_map)   # as the flush's bookkeeping does


def is_transient(exc: BaseException) -> bool:
    """A conflict that a fresh try of the same transaction resolves (PostgreSQL deadlock or
    serialization failure, SQLite busy)."""
    from sqlalchemy.exc import OperationalError
    if not isinstance(exc, OperationalError):
        return False
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(exc.orig)


def retrying(work, attempts: int = 3):
    """Run one unit of work, again from the start if the database aborted it for a conflict."""
    import time
    for attempt in range(attempts):
        try:
            return work()
        except Exception as exc:
            if attempt == attempts - 1 or not is_transient(exc):
                raise
            time.sleep(0.05 * (attempt + 1))


def refresh_statistics(engine: Engine) -> bool:
    """Give SQLite's query planner the tables' statistics (ANALYZE, sampled: a few ms at 10,000
    orders). Without them it takes any equality for selective and reads, say, all of a
    workshop's steps to find the few that completed yesterday. PostgreSQL's autovacuum keeps its
    own; there this does nothing. Returns whether it analysed."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")
    return True


def chunked(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """`items` in slices: ids small enough for one IN (...) on every database (their bound-parameter
    limits), or rows of an executemany that need not all be built at once."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
