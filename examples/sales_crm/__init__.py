"""The sales CRM example: a metadata package (``package.yaml``) and a seed script.

Shipped inside the ``trellis`` distribution as ``trellis.examples.sales_crm`` so that
``trellis demo`` can load it from a wheel as well as from a checkout.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.examples.sales_crm import seed as seeding
from trellis.examples.sales_crm.data import DEFAULT_ACCOUNTS, DEFAULT_RANDOM_SEED
from trellis.metadata.compiled import MetadataCache
from trellis.metadata.package_format import parse_package
from trellis.metadata.package_import import import_package
from trellis.metadata.service import MetadataService
from trellis.records.tables import records

PACKAGE_FILE = "package.yaml"


def package_text() -> str:
    """The package document as shipped."""
    return resources.files(__name__).joinpath(PACKAGE_FILE).read_text(encoding="utf-8")


def load_package() -> dict[str, Any]:
    return parse_package(package_text(), "yaml")


def load_example(
    connection: Connection,
    actor: Actor,
    metadata_cache: MetadataCache,
    *,
    accounts: int = DEFAULT_ACCOUNTS,
    random_seed: int = DEFAULT_RANDOM_SEED,
    today: dt.date | None = None,
    owners: Sequence[uuid.UUID] = (),
) -> dict[str, int] | None:
    """Import the package unless the tenant has its objects, then seed them unless they
    hold records; return the records created per object.

    Returns None and changes nothing when the objects already hold records (the example
    was loaded before) or when the tenant has only some of them (objects of its own
    that share a name): an administrator's changes always survive.
    """
    package = load_package()
    service = MetadataService(connection, actor, metadata_cache)
    existing = service.schema().objects
    wanted = [definition["api_name"].lower() for definition in package["objects"]]
    present = [existing[name].id for name in wanted if name in existing]
    if not present:
        import_package(service, package, message="Load the sales CRM example")
    elif (
        len(present) < len(wanted)
        or connection.execute(
            sa.select(sa.exists().where(records.c.object_id.in_(present)))
        ).scalar_one()
    ):
        return None
    return seeding.seed(
        connection,
        actor,
        metadata_cache,
        accounts=accounts,
        random_seed=random_seed,
        today=today,
        owners=owners,
    )
