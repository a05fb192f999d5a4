"""Which committed state of the database a read-only session sees, as a token: two reads that get
the same token saw the same data, so what was computed from one can be served to the other.

- **SQLite** (WAL): the connection's `PRAGMA data_version` changes whenever another connection
  (of any process) has committed since this connection's last read, and the connection's own
  `total_changes` counts its own writes. Read inside a read transaction it is the value of that
  transaction's snapshot (a commit meanwhile does not move it). Connections are told apart by a
  serial number of this process, never reused (a new connection at the same address starts its
  counters again).
- **PostgreSQL**: `pg_current_snapshot()`, the set of transactions visible now. It is the same
  text only while no transaction with a write has committed (one that commits leaves the
  in-progress list or moves the horizon).

A schema change (DDL) made on the same connection moves neither counter: migrations run while no
process serves pages. Only a read-only session (`storage.db.READ_ONLY`) has a token: a writer's
own uncommitted changes would be in what it computed, and a rollback leaves SQLite's counter and
PostgreSQL's snapshot as they were. Any other database has none (nothing is shared)."""
from __future__ import annotations

import itertools
from collections.abc import Hashable
from typing import Any

from sqlalchemy.orm import Session

from storage.db import READ_ONLY

_SERIAL = "linerelay_connection_serial"   # DBAPI connection info: this connection's number
_serials = itertools.count(1)


def token(session: Session) -> tuple[Hashable, Hashable] | None:
    """The committed state `session` reads (see the module's text) as (where, which): tokens with
    the same `where` (the database, and on SQLite the connection) can be compared by `which`.
    None where there is none."""
    conn = session.connection()
    if not conn.get_execution_options().get(READ_ONLY):
        return None
    dialect = conn.dialect.name
    if dialect == "sqlite":
        info = conn.connection.info
        serial = info.get(_SERIAL)
        if serial is None:
            serial = info[_SERIAL] = next(_serials)
        version = conn.exec_driver_sql("PRAGMA data_version").scalar()
        raw: Any = conn.connection.driver_connection
        return (str(conn.engine.url), serial), (version, raw.total_changes)
    if dialect == "postgresql":
        return str(conn.engine.url), conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar()
    return None
