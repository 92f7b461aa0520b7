"""``python -m trellis.examples.sales_crm``: load the sales CRM example into a tenant."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from trellis.actor import system_actor
from trellis.api.context import schedule_index_build
from trellis.examples.sales_crm import load_example
from trellis.examples.sales_crm.data import DEFAULT_ACCOUNTS, DEFAULT_RANDOM_SEED
from trellis.identity.tenants import get_tenant
from trellis.runtime.app import create_app


def main(argv: Sequence[str] | None = None) -> None:
    """Load the example into a tenant, as :func:`load_example` does."""
    parser = argparse.ArgumentParser(
        prog="python -m trellis.examples.sales_crm",
        description="Import the sales CRM example into a "
        "tenant and fill it with realistic records.",
    )
    parser.add_argument("--tenant", required=True, help="Slug of an existing tenant.")
    parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS)
    parser.add_argument("--seed", type=int, default=DEFAULT_RANDOM_SEED, dest="random_seed")
    arguments = parser.parse_args(argv)

    app = create_app()
    state = app.extensions["trellis"]
    with app.app_context():
        with state.database.platform() as connection:
            tenant = get_tenant(connection, slug=arguments.tenant)
        actor = system_actor(tenant.id, tenant.slug)
        with state.database.tenant(tenant.id) as connection:
            counts = load_example(
                connection,
                actor,
                state.metadata_cache,
                accounts=arguments.accounts,
                random_seed=arguments.random_seed,
            )
        if counts is None:
            raise SystemExit(
                f"Tenant {tenant.slug} already has sales CRM records (or objects "
                "of its own with the same names); nothing loaded."
            )
        schedule_index_build(tenant.id)
        print("Created " + ", ".join(f"{count} {name}" for name, count in counts.items()))
    state.database.dispose()


if __name__ == "__main__":
    main()
