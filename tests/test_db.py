"""The driver fast path's reader switch: one pipeline, and the app role after it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from flask import Flask

from trellis.db import reader_fetch

NOTE = {"api_name": "Note", "label": "Note", "fields": [{"api_name": "Text", "type": "text"}]}


def test_reader_fetch_reads_as_the_reader_and_returns_to_the_app_role(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    for each in (tenant, other_tenant):
        each.api("POST", "/api/v1/meta/objects", json=NOTE)
        assert each.api("POST", "/api/v1/objects/Note/records", json={}).status_code == 201
    database = app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        assert connection.execute(sa.text("SELECT current_user")).scalar() == "trellis_app"
        rows = reader_fetch(
            connection,
            sa.text("SELECT current_user, count(*) FROM records WHERE tenant_id IN (:a, :b)"),
            {"a": tenant.id, "b": other_tenant.id},
        )
        # The reader bypasses row-level security (the statement names its tenant itself).
        [(role, both)] = rows
        assert role == "trellis_reader"
        # Back to the app role in the same transaction: row-level security applies again.
        assert connection.execute(sa.text("SELECT current_user")).scalar() == "trellis_app"
        visible = connection.execute(
            sa.text("SELECT count(*) FROM records WHERE tenant_id IN (:a, :b)"),
            {"a": tenant.id, "b": other_tenant.id},
        ).scalar()
        own = connection.execute(
            sa.text("SELECT count(*) FROM records WHERE tenant_id = :a"), {"a": tenant.id}
        ).scalar()
        assert 1 <= visible == own < both


def test_a_failing_statement_raises_and_leaves_the_connection_usable(
    app: Flask, tenant: TenantFixture
) -> None:
    database = app.extensions["trellis"].database
    with pytest.raises(sa.exc.DataError):
        with database.tenant(tenant.id) as connection:
            reader_fetch(connection, sa.text("SELECT CAST(:text AS numeric)"), {"text": "x"})
    with database.tenant(tenant.id) as connection:
        assert connection.execute(sa.text("SELECT current_user")).scalar() == "trellis_app"
        assert reader_fetch(connection, sa.text("SELECT 1"), {}) == [(1,)]
