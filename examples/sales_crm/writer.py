"""The seed's record writer: every record goes through the records service, with an
owner drawn at random, and is counted per object."""

from __future__ import annotations

import collections
import random
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.metadata.compiled import TenantSchema
from trellis.records.service import RecordService


class Writer:
    """Creates records through the records service and counts them per object."""

    def __init__(
        self,
        connection: Connection,
        actor: Actor,
        schema: TenantSchema,
        owners: Sequence[uuid.UUID],
        rng: random.Random,
    ) -> None:
        self.connection, self.actor, self.schema = connection, actor, schema
        # Owners are drawn from a generator of their own, so that the same seed gives
        # the same records with or without owners.
        self.owners, self.owner_rng = list(owners), random.Random(rng.random())
        self.services: dict[str, RecordService] = {}
        self.counts: collections.Counter[str] = collections.Counter()

    def service(self, object_name: str) -> RecordService:
        if object_name not in self.services:
            self.services[object_name] = RecordService(
                self.connection, self.actor, self.schema, self.schema.object(object_name)
            )
        return self.services[object_name]

    def create(self, object_name: str, values: dict[str, Any]) -> dict[str, Any]:
        values = {name: value for name, value in values.items() if value is not None}
        if self.owners:
            values["owner_id"] = str(self.owner_rng.choice(self.owners))
        record = self.service(object_name).create(values)
        self.counts[object_name] += 1
        return record

    def update(self, object_name: str, record_id: str, values: dict[str, Any]) -> None:
        self.service(object_name).update(record_id, values)
