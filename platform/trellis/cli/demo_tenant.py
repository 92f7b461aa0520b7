"""The demo tenant that ``trellis demo`` serves: an admin, a token and example data
(the sales CRM example, imported and seeded on the first run only)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask

from trellis.actor import system_actor
from trellis.api.context import schedule_index_build
from trellis.errors import NotFound
from trellis.examples.sales_crm import load_example
from trellis.identity.tenants import create_tenant, get_tenant
from trellis.identity.tokens import create_token
from trellis.identity.users import create_user, find_user

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.example"
DEMO_PASSWORD = "trellis-demo"


def load_demo(app: Flask) -> Iterator[str]:
    """Create the demo tenant once; later runs reuse it. Yields what to tell the user."""
    database = app.extensions["trellis"].database
    with database.platform() as connection:
        try:
            tenant = get_tenant(connection, slug=DEMO_SLUG)
        except NotFound:
            tenant = None
    if tenant is None:
        with database.owner() as connection:
            tenant = create_tenant(connection, DEMO_SLUG, "Demo company")
    actor = system_actor(tenant.id, tenant.slug)
    with database.tenant(tenant.id) as connection:
        user = find_user(connection, DEMO_EMAIL)
        if user is None:
            user = create_user(
                connection,
                actor,
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                display_name="Demo admin",
                roles=["admin"],
            )
        token, _ = create_token(connection, actor, user_id=user.id, name="demo")
    with database.tenant(tenant.id) as connection:
        loaded = load_example(
            connection, actor, app.extensions["trellis"].metadata_cache, owners=[user.id]
        )
    if loaded is None:
        yield "Sales CRM example: already loaded (kept as it is)."
    else:
        with app.app_context():
            schedule_index_build(tenant.id)
        yield "Loaded the sales CRM example, records: " + ", ".join(
            f"{name} {count}" for name, count in loaded.items()
        )
    yield f"Workspace: {DEMO_SLUG}   email: {DEMO_EMAIL}   password: {DEMO_PASSWORD}"
    yield f"API token: {token}"
