"""Database access: engines, per-tenant transactions and the row-level-security contract.

Two engines share one URL:

* the **owner** engine runs migrations, concurrent index builds and platform
  operations such as creating a tenant;
* the **app** engine switches every pooled connection to the application role
  (``TRELLIS_DB_APP_ROLE``), which neither owns the tables nor bypasses RLS.

Every tenant-scoped table carries ``tenant_id`` and a policy comparing it with the
transaction-local setting ``trellis.tenant_id``; :meth:`Database.tenant` sets it. A
query that forgets ``WHERE tenant_id`` therefore still sees one tenant only.
"""

from __future__ import annotations

import contextlib
import re
import uuid
import weakref
from collections.abc import Iterator
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row, tuple_row
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

TENANT_SETTING = "trellis.tenant_id"
READER_ROLE = "trellis_reader"  # created by migration 0004 where a superuser migrates


def tenant_rls_statements(table: str) -> list[str]:
    """DDL that puts a table under tenant isolation; every tenant-scoped migration uses it."""
    predicate = f"tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        # FORCE: the policy applies to the table owner too (but never to superusers,
        # which is why the app engine switches to a non-superuser role).
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({predicate}) WITH CHECK ({predicate})",
    ]


def reader_grant_statement(table: str) -> str:
    """DDL letting the RLS-bypassing reader role (migration 0004) read ``table``, where
    that role exists: statements read as it carry their own tenant predicate."""
    return f"""
        DO $$ BEGIN
          IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
            GRANT SELECT ON {table} TO {READER_ROLE};
          END IF;
        END $$"""


def app_role_statements(role: str) -> list[str]:
    """Create the application role if needed and give it data (not DDL) rights."""
    quoted = checked_role_name(role)
    return [
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{quoted}" NOLOGIN NOBYPASSRLS;
              END IF;
            END $$""",
        f'GRANT "{quoted}" TO CURRENT_USER',
        f'GRANT USAGE ON SCHEMA public TO "{quoted}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{quoted}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{quoted}"',
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE "
        f'ON TABLES TO "{quoted}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{quoted}"',
        *append_only_statements(role),
    ]


# Tables the application may add to and read but never change: the blanket grant above
# would otherwise give their rights back every time grants are refreshed.
APPEND_ONLY_TABLES = ("audit_events",)


def append_only_statements(role: str) -> list[str]:
    """Take UPDATE, DELETE and TRUNCATE on the append-only tables from the app role.

    Guarded: grants are refreshed after migrating to any revision (the table may not
    exist yet), and a first migration runs before the role is created (the refresh
    after it then revokes)."""
    quoted = checked_role_name(role)
    return [
        f"""DO $$ BEGIN
              IF to_regclass('public.{table}') IS NOT NULL
                 AND EXISTS (SELECT FROM pg_roles WHERE rolname = '{quoted}') THEN
                REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM "{quoted}";
              END IF;
            END $$"""
        for table in APPEND_ONLY_TABLES
    ]


def checked_role_name(role: str) -> str:
    """Role names are interpolated into DDL, so accept identifiers only."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"invalid PostgreSQL role name: {role!r}")
    return role


class Database:
    """The engines of one app instance."""

    def __init__(self, url: str, app_role: str, pool_size: int = 10) -> None:
        self.url = url
        self.app_role = checked_role_name(app_role)
        self.owner_engine: Engine = sa.create_engine(url, pool_size=2, pool_pre_ping=True)
        # No pre-ping on the hot engine: it would cost a round trip per transaction.
        # Instead every transaction's first statement is retried once on a fresh
        # connection when it finds its pooled connection dead (see connect()).
        self.engine: Engine = sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size)
        sa.event.listen(self.engine, "connect", self._switch_role)

    def _switch_role(self, dbapi_connection, connection_record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{self.app_role}"')
            # JIT compilation pays off for long analytical queries, not for these: a
            # restricted count over 1M records spent 259 ms of its 2.8 s compiling
            # (benchmarks/access_bench.py --plans).
            cursor.execute("SET jit = off")
        dbapi_connection.commit()

    def connect(self, tenant_id: uuid.UUID | str | None, *, autocommit: bool = False) -> Connection:
        """A pooled connection in a new transaction, scoped to ``tenant_id`` (or to no
        tenant); with ``autocommit``, outside any transaction (for session-level locks).

        A connection the server dropped (a restart, an idle timeout) shows up on the
        first statement; SQLAlchemy then invalidates the pool and the connection is
        taken again once, fresh, so callers never see the stale one."""
        for attempt in (1, 2):
            connection = self.engine.connect()
            try:
                if autocommit:
                    connection.execution_options(isolation_level="AUTOCOMMIT")
                    connection.exec_driver_sql("SELECT 1")
                    return connection
                connection.begin()
                if tenant_id is None:
                    connection.exec_driver_sql("SELECT 1")
                else:
                    set_tenant(connection, tenant_id)
                return connection
            except sa.exc.DBAPIError as error:
                connection.close()
                if attempt == 2 or not error.connection_invalidated:
                    raise
            except BaseException:
                connection.close()
                raise
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def tenant(self, tenant_id: uuid.UUID | str) -> Iterator[Connection]:
        """A transaction that sees exactly one tenant's rows; commits on success."""
        with transaction(self.connect(tenant_id)) as connection:
            yield connection

    @contextlib.contextmanager
    def platform(self) -> Iterator[Connection]:
        """A transaction under the app role with no tenant: only global tables are visible."""
        with transaction(self.connect(None)) as connection:
            yield connection

    @contextlib.contextmanager
    def owner(self) -> Iterator[Connection]:
        """A transaction as the table owner, for platform operations (tenant creation)."""
        with self.owner_engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
        self.owner_engine.dispose()


@contextlib.contextmanager
def transaction(connection: Connection) -> Iterator[Connection]:
    """Finish the open transaction of ``connection`` with the block: commit when it
    succeeds, roll back when it raises; then return the connection to its pool."""
    try:
        yield connection
    except BaseException:
        connection.close()  # closing rolls back
        raise
    try:
        connection.commit()
    finally:
        connection.close()


_DRIVER_SQL: weakref.WeakKeyDictionary[sa.ClauseElement, tuple[str, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def driver_execute(
    connection: Connection,
    statement: sa.ClauseElement,
    parameters: dict[str, Any],
    *,
    named: bool = True,
) -> Any:
    """Run a statement built once (module level, or per metadata revision) straight on the
    psycopg connection, in the connection's transaction; returns the cursor, whose rows
    are named tuples of driver types (plain tuples when not ``named``: cheaper for pages
    of many rows).

    For the few statements nearly every request runs (the token lookup, a record by id,
    a list page, the one statement of a create):
    SQLAlchemy's execution and result machinery costs about as much CPU as the driver
    work itself. The SQL is still SQLAlchemy's, compiled once per statement object.
    """
    sql, defaults = _driver_sql(connection, statement)
    return _run(connection, sql, {**defaults, **parameters}, named=named)


def _driver_sql(connection: Connection, statement: sa.ClauseElement) -> tuple[str, dict[str, Any]]:
    """The statement's SQL and its fixed parameter values."""
    found = _DRIVER_SQL.get(statement)
    if found is None:
        compiled = statement.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        # Values fixed when the statement was built (an object id) are parameters too.
        found = _DRIVER_SQL[statement] = (str(compiled), dict(compiled.params))
    return found


def _run(connection: Connection, sql: str, parameters: dict[str, Any], named: bool = True) -> Any:
    driver = connection.connection.driver_connection
    # connection.connection reconnects an invalidated connection, so a driver is there.
    assert driver is not None
    cursor = driver.cursor(row_factory=namedtuple_row if named else tuple_row)
    # SQLAlchemy's own hook still sees the statement (SQL logging, tracing, benchmarks).
    for listener in connection.dispatch.before_cursor_execute:
        listener(connection, cursor, sql, parameters, None, False)
    try:
        return cursor.execute(sql, parameters)
    except psycopg.Error as error:
        raise _driver_error(connection, cursor, sql, parameters, error) from error


def _driver_error(
    connection: Connection, cursor: Any, sql: str, parameters: dict[str, Any], error: Exception
) -> sa.exc.StatementError:
    """A driver error as SQLAlchemy's own (IntegrityError, DataError …), which the API maps
    to clear 4xx answers; a dropped connection is marked so the pool discards it."""
    # SQLAlchemy types the error as a class nested in its DB-API protocol, which no
    # real driver's error is.
    invalidated = connection.dialect.is_disconnect(
        error,  # type: ignore[arg-type]
        connection.connection,
        cursor,
    )
    if invalidated:
        connection.invalidate(error)
    return sa.exc.DBAPIError.instance(
        sql, parameters, error, psycopg.Error, connection_invalidated=invalidated
    )


_SET_TENANT = sa.text(f"SELECT set_config('{TENANT_SETTING}', :tenant, true)")


def set_tenant(connection: Connection, tenant_id: uuid.UUID | str) -> None:
    """Scope the current transaction to one tenant (``set_config(..., is_local => true)``).

    On the driver: it opens every transaction. It is also the statement that finds a
    dead pooled connection; driver_execute marks it invalid, and Database.connect
    takes a fresh one."""
    driver_execute(connection, _SET_TENANT, {"tenant": str(tenant_id)})


_READER_AVAILABLE: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
_BECOME_READER = sa.text("SELECT current_user, set_config('role', :reader, true)")
_BECOME = sa.text("SELECT set_config('role', :role, true)")
# The same switch for a pipeline, where no answer can be read before the next statement:
# the role to return to is kept in a transaction-local setting instead.
_REMEMBER_ROLE = "SELECT set_config('trellis.role_before_reader', current_user, true)"
_BECOME_READER_PIPELINED = "SELECT set_config('role', %(reader)s, true)"
_RETURN_FROM_READER = (
    "SELECT set_config('role', current_setting('trellis.role_before_reader'), true)"
)


def _reader_available(connection: Connection) -> bool:
    engine = connection.engine
    if engine not in _READER_AVAILABLE:
        _READER_AVAILABLE[engine] = bool(
            connection.execute(
                sa.text(
                    "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :r AND rolbypassrls) "
                    "AND pg_has_role(session_user, :r, 'MEMBER')"
                ),
                {"r": READER_ROLE},
            ).scalar()
        )
    return _READER_AVAILABLE[engine]


def reader_fetch(
    connection: Connection,
    statement: sa.ClauseElement,
    parameters: dict[str, Any],
    *,
    named: bool = True,
) -> list[Any]:
    """:func:`driver_execute` of one statement as the reader role (see
    :func:`index_friendly_reads`), returning its rows, in one round trip: the switch to
    the reader, the statement and the switch back are sent as one pipeline. A list page
    runs this; two of its six round trips were the switches."""
    if not _reader_available(connection):
        return driver_execute(connection, statement, parameters, named=named).fetchall()
    driver = connection.connection.driver_connection
    assert driver is not None
    sql, defaults = _driver_sql(connection, statement)
    values = {**defaults, **parameters}
    try:
        # Queued, not yet run: a statement's errors are raised when the pipeline ends.
        with driver.pipeline():
            _run(connection, _REMEMBER_ROLE, {})
            _run(connection, _BECOME_READER_PIPELINED, {"reader": READER_ROLE})
            cursor = _run(connection, sql, values, named=named)
            _run(connection, _RETURN_FROM_READER, {})
    except psycopg.Error as error:
        # A failed statement aborts the rest of the pipeline and the transaction, whose
        # rollback undoes the switch.
        raise _driver_error(connection, None, sql, values, error) from error
    return cursor.fetchall()


@contextlib.contextmanager
def index_friendly_reads(connection: Connection) -> Iterator[None]:
    """Run the enclosed statements as the RLS-bypassing reader role, when it exists.

    Only for statements that carry their own ``tenant_id = …`` predicate: under RLS
    PostgreSQL cannot use expression indexes for JSONB filters (see migration 0004).
    The switch is transaction-local; on an error the rollback undoes it.
    """
    if not _reader_available(connection):
        yield
        return
    # On the driver: these run around every list page.
    previous = driver_execute(connection, _BECOME_READER, {"reader": READER_ROLE}).fetchone()[0]
    yield
    driver_execute(connection, _BECOME, {"role": previous})
