"""Auto-numbers stay gapless and unique under concurrent creates and rollbacks."""

from __future__ import annotations

import threading

from conftest import TenantFixture
from flask import Flask

from trellis.records.service import RecordService


class Rollback(Exception):
    pass


def test_concurrent_creates_get_gapless_numbers(app: Flask, tenant: TenantFixture) -> None:
    tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Ticket",
            "label": "Ticket",
            "fields": [
                {"api_name": "Number", "type": "auto_number", "format": "T-{0000}", "start": 1},
                {"api_name": "Title", "type": "text"},
            ],
        },
    )
    state = app.extensions["trellis"]
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            for attempt in range(5):
                try:
                    with state.database.tenant(tenant.id) as connection:
                        schema = state.metadata_cache.get(connection, tenant.id)
                        service = RecordService(
                            connection, tenant.actor, schema, schema.object("Ticket")
                        )
                        record = service.create({"Title": f"{index}-{attempt}"})
                        if attempt == 2:
                            raise Rollback()  # this number must be handed back
                    with lock:
                        numbers.append(record["Number"])
                except Rollback:
                    pass
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"T-{n:04d}" for n in range(1, 25)]
