"""The demo tenant that ``trellis demo`` serves: an admin, a token and example data."""
from __future__ import annotations

from typing import Iterator

from flask import Flask

from trellis.actor import system_actor
from trellis.errors import NotFound
from trellis.tenants import create_tenant, get_tenant
from trellis.tokens import create_token
from trellis.users import create_user, find_user

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
            user = create_user(connection, actor, email=DEMO_EMAIL, password=DEMO_PASSWORD,
                               display_name="Demo admin", roles=["admin"])
        token, _ = create_token(connection, actor, user_id=user.id, name="demo")
    yield f"Workspace: {DEMO_SLUG}   email: {DEMO_EMAIL}   password: {DEMO_PASSWORD}"
    yield f"API token: {token}"
