"""Row-level security: a query with no tenant filter still sees one tenant only.

The walk covers every table with a ``tenant_id`` column, so tables added by later
migrations are checked without touching this file; a table for which the
fixtures create no rows fails loudly instead of passing vacuously.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from flask import Flask

from trellis.db import APPEND_ONLY_TABLES
from trellis.identity.links import issue_link
from trellis.identity.sessions import start_session
from trellis.identity.tables import users

TENANT_TABLES_SQL = """
    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      AND EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
    ORDER BY c.relname
"""


def populate(app: Flask, tenant: TenantFixture) -> None:
    """Give the tenant at least one row in every tenant-scoped table."""
    database = app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        user = connection.execute(sa.select(users).where(users.c.id == tenant.admin_id)).one()
        start_session(connection, user, hours=1, client_address="127.0.0.1", user_agent="t")
        issue_link(connection, tenant.actor, tenant.admin_id, "invite")
    # Metadata, revisions, planned indexes, records, refs, history, events, counters:
    for definition in (
        {
            "api_name": "Account",
            "label": "Account",
            "fields": [
                {"api_name": "Name", "type": "text", "unique": True},
                {"api_name": "Number", "type": "auto_number", "format": "A-{000}"},
            ],
        },
        {
            "api_name": "Contact",
            "label": "Contact",
            "fields": [
                {"api_name": "Name", "type": "text"},
                {"api_name": "Account", "type": "lookup", "target": "Account"},
            ],
        },
    ):
        assert tenant.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201
    tenant.api(
        "POST",
        "/api/v1/meta/automations",
        json={
            "api_name": "greet",
            "object": "Contact",
            "trigger": "created",
            "timing": "after_save",
            "actions": [{"type": "update_fields", "values": {"Name": 'Name & "!"'}}],
        },
    )
    # A webhook subscription: the contact's event gives it a delivery.
    assert (
        tenant.api(
            "POST",
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "secret": "s3cret-key", "objects": ["Contact"]},
        ).status_code
        == 201
    )
    # Sent with an idempotency key: its answer is kept in idempotency_keys.
    account = tenant.api(
        "POST",
        "/api/v1/objects/Account/records",
        json={"Name": "Acme"},
        headers={"Idempotency-Key": "populate-account"},
    )
    contact = tenant.api(
        "POST",
        "/api/v1/objects/Contact/records",
        json={"Name": "Ada", "Account": account.get_json()["id"]},
    )
    assert contact.status_code == 201, contact.get_json()
    # The outbox dispatcher turns the contact's event into an automation run and a delivery.
    from trellis.outbox.dispatch import dispatch_pending
    from trellis.outbox.tasks import consumers_of

    state = app.extensions["trellis"]
    dispatched = dispatch_pending(state.database, state.metadata_cache, consumers_of(state))
    assert dispatched["trellis.run_automation"] and dispatched["trellis.deliver_webhook"]
    # A scheduled automation: the beat task gives it its schedule row.
    from trellis.automation.schedule import run_schedules

    assert (
        tenant.api(
            "POST",
            "/api/v1/meta/automations",
            json={
                "api_name": "nightly",
                "object": "Account",
                "trigger": "scheduled",
                "timing": "after_save",
                "schedule": "0 2 * * *",
                "actions": [{"type": "update_fields", "values": {"Name": "Name"}}],
            },
        ).status_code
        == 201
    )
    run_schedules(state.database, state.metadata_cache)
    # Access: a role and a permission set (metadata), a group, a user's closure, a
    # sharing rule's share and its recompute job, a manual share.
    from trellis.access.recompute import run_pending

    assert (
        tenant.api(
            "POST", "/api/v1/meta/roles", json={"api_name": "rep", "label": "Rep"}
        ).status_code
        == 201
    )
    assert (
        tenant.api(
            "POST", "/api/v1/meta/permission-sets", json={"api_name": "extra", "label": "Extra"}
        ).status_code
        == 201
    )
    group = {"api_name": "team", "label": "Team", "members": [{"kind": "role", "member": "rep"}]}
    assert tenant.api("POST", "/api/v1/groups", json=group).status_code == 201
    assert (
        tenant.api("PATCH", f"/api/v1/users/{tenant.admin_id}", json={"role": "rep"}).status_code
        == 200
    )
    rule = {"name": "all", "criteria": "true", "share_with": {"group": "team"}, "access": "read"}
    assert (
        tenant.api(
            "PUT", "/api/v1/meta/sharing-rules/Account", json={"sharing_rules": [rule]}
        ).status_code
        == 200
    )
    run_pending(state.database, state.metadata_cache)
    shared = tenant.api(
        "POST",
        f"/api/v1/objects/Account/records/{account.get_json()['id']}/shares",
        json={"role": "rep"},
    )
    assert shared.status_code == 201, shared.get_json()
    # A recently viewed record, as a record page remembers it.
    from trellis.records.recent import remember_view

    with database.tenant(tenant.id) as connection:
        schema = state.metadata_cache.get(connection, tenant.id)
        viewer = dataclasses.replace(tenant.actor, user_id=tenant.admin_id)
        remember_view(
            connection, viewer, schema.object("Account"), uuid.UUID(account.get_json()["id"])
        )
    # A list view, and a user's choice of columns for one.
    view = {"api_name": "named", "label": "Named", "columns": ["Name"]}
    assert tenant.api("POST", "/api/v1/objects/Account/list-views", json=view).status_code == 201
    from trellis.access.gate import Access
    from trellis.records.list_view_store import save_column_choice

    with database.tenant(tenant.id) as connection:
        schema = state.metadata_cache.get(connection, tenant.id)
        viewer = dataclasses.replace(tenant.actor, user_id=tenant.admin_id)
        access = Access.of(viewer, schema)
        save_column_choice(connection, access, schema.object("Account"), "all", ["Name"])
    # An import job, run here rather than by a worker, and the row it rejected.
    from trellis.imports.run import run_job

    job = tenant.api("POST", "/api/v1/imports", json={"object": "Account"})
    assert job.status_code == 201, job.get_json()
    job_id = job.get_json()["id"]
    uploaded = tenant.api(
        "PUT",
        f"/api/v1/imports/{job_id}/file?name=accounts.csv",
        data=b"Name\nAcme\nGlobex\n",  # Acme is taken: Name is unique
        headers={"Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 200, uploaded.get_json()
    with database.tenant(tenant.id) as connection:
        connection.execute(
            sa.text("UPDATE import_jobs SET state = 'queued' WHERE id = :id"), {"id": job_id}
        )
    run_job(state.database, state.metadata_cache, 100, tenant.id, uuid.UUID(job_id))
    result = tenant.api("GET", f"/api/v1/imports/{job_id}/result").get_json()
    assert result["rejected"] == 1, result


def tenant_tables(app: Flask) -> list[sa.Row]:
    with app.extensions["trellis"].database.owner() as connection:
        return list(connection.execute(sa.text(TENANT_TABLES_SQL)))


def test_every_tenant_table_forces_row_level_security(app: Flask) -> None:
    tables = tenant_tables(app)
    assert {row.relname for row in tables} >= {"users", "api_tokens", "user_sessions"}
    for row in tables:
        assert row.relrowsecurity and row.relforcerowsecurity, row.relname
    with app.extensions["trellis"].database.owner() as connection:
        policies = {
            name
            for (name,) in connection.execute(
                sa.text(
                    "SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation' "
                    "AND qual LIKE '%trellis.tenant_id%' AND with_check LIKE '%trellis.tenant_id%'"
                )
            )
        }
    assert {row.relname for row in tables} <= policies


def test_unfiltered_queries_see_only_their_tenant(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    populate(app, tenant)
    populate(app, other_tenant)
    database = app.extensions["trellis"].database
    for row in tenant_tables(app):
        table = row.relname
        with database.owner() as connection:
            owners_view = dict(
                connection.execute(
                    sa.text(
                        f"SELECT tenant_id, count(*) FROM {table} "
                        "WHERE tenant_id IN (:a, :b) GROUP BY tenant_id"
                    ),
                    {"a": tenant.id, "b": other_tenant.id},
                ).all()
            )
        assert owners_view.get(tenant.id) and owners_view.get(other_tenant.id), (
            f"{table}: give both test tenants rows in populate() so isolation is proven"
        )
        with database.tenant(tenant.id) as connection:
            seen = connection.execute(
                sa.text(f"SELECT count(*), count(*) FILTER (WHERE tenant_id <> :a) FROM {table}"),
                {"a": tenant.id},
            ).one()
        assert seen[0] == owners_view[tenant.id], table
        assert seen[1] == 0, f"{table} leaks rows of other tenants"


def test_writes_into_another_tenant_are_refused(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    populate(app, tenant)
    database = app.extensions["trellis"].database
    for row in tenant_tables(app):
        if row.relname in APPEND_ONLY_TABLES:
            # Never updated at all; what a tenant adds carries its own tenant id only.
            statement = f"INSERT INTO {row.relname} (tenant_id, action) VALUES (:other, 'forged')"
        else:
            statement = (
                f"UPDATE {row.relname} SET tenant_id = :other "
                f"WHERE ctid = (SELECT ctid FROM {row.relname} LIMIT 1)"
            )
        with pytest.raises(sa.exc.DBAPIError, match="row-level security"):
            with database.tenant(tenant.id) as connection:
                connection.execute(sa.text(statement), {"other": other_tenant.id})


def test_no_tenant_set_sees_nothing(app: Flask, tenant: TenantFixture) -> None:
    with app.extensions["trellis"].database.platform() as connection:
        for row in tenant_tables(app):
            assert (
                connection.execute(sa.text(f"SELECT count(*) FROM {row.relname}")).scalar() == 0
            ), row.relname


def test_app_role_is_not_privileged(app: Flask) -> None:
    with app.extensions["trellis"].database.platform() as connection:
        current = connection.execute(
            sa.text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
    assert current == (False, False)
