"""The document's top-level ``webhooks`` describe what subscriptions really receive: the
bodies a real worker delivers to a real receiver match ``WebhookEvent``, and carry every
header the document says they carry."""

from __future__ import annotations

import json
import re
from typing import Any

from conftest import TenantFixture
from helpers import wait_for
from jsonschema import Draft202012Validator


def test_delivered_events_match_the_documented_webhooks(crm: TenantFixture, receiver: Any) -> None:
    url, handler = receiver
    subscribed = crm.api(
        "POST", "/api/v1/webhooks", json={"url": url, "secret": "whsec-0123456789"}
    )
    assert subscribed.status_code == 201, subscribed.get_json()
    deal = crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "Acme"})
    record = f"/api/v1/objects/Opportunity/records/{deal.get_json()['id']}"
    assert crm.api("PATCH", record, json={"Stage": "Negotiation"}).status_code == 200
    assert crm.api("DELETE", record).status_code == 204
    assert crm.api("POST", f"{record}/restore").status_code == 200
    wait_for(lambda: len(handler.deliveries) == 4)

    spec = crm.api("GET", "/api/v1/openapi.json").get_json()
    assert set(spec["webhooks"]) == {
        "record.created",
        "record.updated",
        "record.deleted",
        "record.restored",
    }
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/WebhookEvent", "components": spec["components"]}
    )
    assert list(validator.iter_errors({"event": "record.created"})) != []  # it can fail
    seen = set()
    for delivery in handler.deliveries:
        body = json.loads(delivery["body"])
        assert [error.message for error in validator.iter_errors(body)] == []
        described = spec["webhooks"][body["event"]]["post"]
        for header in described["parameters"]:
            assert header["in"] == "header" and header["required"] is True
            sent = delivery["headers"][header["name"]]
            assert re.fullmatch(header["schema"].get("pattern", ".+"), sent), header["name"]
        assert delivery["headers"]["X-Trellis-Event"] == body["event"]
        seen.add(body["event"])
    assert seen == set(spec["webhooks"])
