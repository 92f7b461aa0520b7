"""Webhook subscriptions on a real worker process and a real HTTP receiver: signed
deliveries, selection by object, event type and filter, retries, dead letters, automatic
disabling, replay, the delivery log, tenant isolation and idempotent dispatch."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import sqlalchemy as sa
from conftest import TenantFixture
from factories import CRM_OPPORTUNITY
from flask import Flask
from helpers import assert_envelope, wait_for

from trellis.webhooks.signing import verify

SECRET = "whsec-0123456789"


def subscribe(tenant: TenantFixture, url: str, **definition: Any) -> dict:
    response = tenant.api(
        "POST", "/api/v1/webhooks", json={"url": url, "secret": SECRET, **definition}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deliveries(tenant: TenantFixture, webhook: dict, **filters: str) -> list[dict]:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    response = tenant.api("GET", f"/api/v1/webhooks/{webhook['id']}/deliveries?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def create_deal(tenant: TenantFixture, **values: Any) -> dict:
    response = tenant.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "Acme", **values}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def signed(delivery: dict) -> dict:
    """The JSON body of a delivery the receiver got, once its signature is checked."""
    headers = delivery["headers"]
    assert verify(
        SECRET, headers["X-Trellis-Timestamp"], headers["X-Trellis-Signature"], delivery["body"]
    )
    return json.loads(delivery["body"])


def test_subscriptions_are_managed_and_the_secret_is_write_only(tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    created = subscribe(
        tenant,
        "http://127.0.0.1:9/hook",
        name="ERP",
        objects=["opportunity"],
        event_types=["updated", "created"],
        filter="Amount > 1000",
    )
    assert created["objects"] == ["Opportunity"]
    assert created["event_types"] == ["created", "updated"]  # in a fixed order
    assert created["active"] is True and created["disabled_reason"] is None
    assert "secret" not in created
    one = f"/api/v1/webhooks/{created['id']}"
    assert tenant.api("GET", one).get_json() == created
    assert tenant.api("GET", "/api/v1/webhooks").get_json()["data"] == [created]

    changed = tenant.api(
        "PATCH", one, json={"filter": None, "secret": "rotated-secret", "active": False}
    ).get_json()
    assert changed["filter"] is None and changed["active"] is False
    assert changed["name"] == "ERP" and changed["objects"] == ["Opportunity"]
    assert "secret" not in json.dumps(changed) and "rotated" not in json.dumps(changed)
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        assert (
            connection.execute(sa.text("SELECT secret FROM webhook_subscriptions")).scalar()
            == "rotated-secret"
        )

    # Tokens without the admin scope cannot see or change subscriptions.
    token = tenant.api("POST", "/api/v1/tokens", json={"name": "app", "scopes": ["read", "write"]})
    reader = token.get_json()["token"]
    assert_envelope(tenant.api("GET", "/api/v1/webhooks", token=reader), 403)
    assert_envelope(tenant.api("DELETE", one, token=reader), 403)

    assert tenant.api("DELETE", one).status_code == 204
    assert_envelope(tenant.api("GET", one), 404)
    assert tenant.api("GET", "/api/v1/webhooks").get_json()["data"] == []


def test_bad_subscriptions_are_refused_and_change_nothing(
    tenant: TenantFixture, make_app: Any
) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    good = {"url": "https://127.0.0.1/hook", "secret": SECRET, "objects": ["Opportunity"]}
    cases = [
        ({"objects": ["Opportunity", "Nope"]}, "objects.1"),
        ({"event_types": ["created", "renamed"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": None}, "url"),
        ({"filter": "Amount + 1"}, "filter"),  # a number, not a condition
        ({"filter": "Amout > 1"}, "filter"),  # an unknown field
        ({"filter": "Amount > 1", "objects": []}, "filter"),
        ({"secret": None}, "secret"),
        ({"secret": "short"}, "secret"),
        ({"active": "yes"}, "active"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in cases:
        body = {key: value for key, value in {**good, **change}.items() if value is not None}
        errors = assert_envelope(tenant.api("POST", "/api/v1/webhooks", json=body), 422)["errors"]
        assert field in errors, (change, errors)
    formula = assert_envelope(
        tenant.api("POST", "/api/v1/webhooks", json={**good, "filter": "Amout > 1"}), 422
    )["errors"]["filter"][0]
    assert "Amout" in formula and "line 1" in formula
    malformed = tenant.api(
        "POST", "/api/v1/webhooks", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert_envelope(malformed, 400, "malformed_json")
    # The production default refuses private addresses, naming the field.
    refused = assert_envelope(
        tenant.api(
            "POST", "/api/v1/webhooks", json=good, app=make_app(webhook_allow_private=False)
        ),
        422,
    )
    assert "loopback" in refused["errors"]["url"][0]
    assert tenant.api("GET", "/api/v1/webhooks").get_json()["data"] == []

    webhook = subscribe(tenant, "http://127.0.0.1:9/hook", objects=["Opportunity"])
    one = f"/api/v1/webhooks/{webhook['id']}"
    assert (
        "filter"
        in assert_envelope(tenant.api("PATCH", one, json={"filter": "ISPICKVAL(Stage, 1)"}), 422)[
            "errors"
        ]
    )
    assert "secret" in assert_envelope(tenant.api("PATCH", one, json={"secret": ""}), 422)["errors"]
    assert tenant.api("GET", one).get_json() == webhook
    assert_envelope(tenant.api("GET", "/api/v1/webhooks/not-a-uuid"), 404)
    assert_envelope(tenant.api("GET", f"{one}/deliveries?status=lost"), 400)
    assert_envelope(tenant.api("POST", f"{one}/deliveries/1/replay"), 404)


def test_deliveries_are_signed_and_carry_the_event(crm: TenantFixture, receiver: Any) -> None:
    url, handler = receiver
    webhook = subscribe(crm, url, objects=["Opportunity"])
    deal = create_deal(crm, Amount=1200)
    record = f"/api/v1/objects/Opportunity/records/{deal['id']}"
    assert wait_for(lambda: len(handler.deliveries) == 1)
    crm.api("PATCH", record, json={"Stage": "Negotiation"})
    assert wait_for(lambda: len(handler.deliveries) == 2)
    crm.api("DELETE", record)
    assert wait_for(lambda: len(handler.deliveries) == 3)

    created, updated, deleted = (signed(d) for d in handler.deliveries)
    assert created["event"] == "record.created" and created["object"] == "Opportunity"
    assert created["record_id"] == deal["id"] and created["prior"] is None
    assert created["record"]["Name"] == "Acme" and created["record"]["Amount"] == 1200
    assert updated["event"] == "record.updated"
    assert updated["record"]["Stage"] == "Negotiation" and "Stage" not in updated["prior"]
    assert updated["changes"] == {"Stage": [None, "Negotiation"]}
    assert deleted["event"] == "record.deleted" and deleted["record"] is None
    assert deleted["prior"]["Name"] == "Acme"
    assert created["occurred_at"] <= updated["occurred_at"] <= deleted["occurred_at"]

    assert wait_for(lambda: len(deliveries(crm, webhook, status="succeeded")) == 3)
    log = deliveries(crm, webhook)
    assert [d["event"] for d in log] == ["record.deleted", "record.updated", "record.created"]
    assert all(d["attempts"] == 1 and d["response_status"] == 200 for d in log)
    # The delivery id is in the header and the body, for receivers to drop duplicates.
    for sent, logged in zip(handler.deliveries, reversed(log), strict=True):
        assert sent["headers"]["X-Trellis-Delivery"] == str(logged["id"])
        assert json.loads(sent["body"])["id"] == str(logged["id"])
        assert sent["headers"]["X-Trellis-Event"] == logged["event"]
    assert deliveries(crm, webhook, record_id=deal["id"], limit="1")[0]["id"] == log[0]["id"]
    page = crm.api("GET", f"/api/v1/webhooks/{webhook['id']}/deliveries?limit=2").get_json()
    rest = deliveries(crm, webhook, cursor=page["next_cursor"])
    assert [d["id"] for d in page["data"] + rest] == [d["id"] for d in log]


def test_objects_event_types_and_filters_select_events(crm: TenantFixture, receiver: Any) -> None:
    url, handler = receiver
    picky = subscribe(
        crm,
        url,
        objects=["Opportunity"],
        event_types=["updated"],
        filter="AND(Amount > 1000, ISCHANGED(Amount))",
    )
    everything = subscribe(crm, url)
    deal = create_deal(crm, Amount=5)  # created
    record = f"/api/v1/objects/Opportunity/records/{deal['id']}"
    crm.api("PATCH", record, json={"Amount": 50})  # filter: no
    crm.api("PATCH", record, json={"Amount": 5000})  # yes
    crm.api("PATCH", record, json={"Stage": "Negotiation"})  # not changed
    crm.api("POST", "/api/v1/objects/Task/records", json={"Subject": "Call"})  # Task
    assert wait_for(lambda: len(deliveries(crm, everything, status="succeeded")) == 5)
    [chosen] = deliveries(crm, picky)
    assert chosen["event"] == "record.updated" and chosen["status"] == "succeeded"
    sent = [
        json.loads(d["body"])
        for d in handler.deliveries
        if d["headers"]["X-Trellis-Delivery"] == str(chosen["id"])
    ]
    assert [body["changes"] for body in sent] == [{"Amount": [50, 5000]}]
    assert {d["object"] for d in deliveries(crm, everything)} == {"Opportunity", "Task"}


def test_failing_receiver_retries_dies_disables_and_replays(
    crm: TenantFixture, receiver: Any
) -> None:
    url, handler = receiver
    handler.status = 500
    webhook = subscribe(crm, url)
    one = f"/api/v1/webhooks/{webhook['id']}"
    create_deal(crm, Name="first")
    create_deal(crm, Name="second")
    # Two attempts each (the test setting), then dead; two dead in a row switch it off.
    dead = wait_for(
        lambda: (
            len(deliveries(crm, webhook, status="dead")) == 2
            and deliveries(crm, webhook, status="dead")
        )
    )
    assert dead and all(d["attempts"] == 2 and d["error"] == "HTTP 500" for d in dead)
    assert all(d["response_status"] == 500 for d in dead)
    assert len(handler.deliveries) == 4
    disabled = wait_for(
        lambda: (found := crm.api("GET", one).get_json())["active"] is False and found
    )
    assert disabled["consecutive_failures"] == 2
    assert "2 deliveries in a row" in disabled["disabled_reason"]
    assert "HTTP 500" in disabled["disabled_reason"]

    # Switched off: a new event gets no delivery.
    create_deal(crm, Name="third")
    assert wait_for(lambda: _undispatched(crm) == 0)
    assert len(deliveries(crm, webhook)) == 2

    # The receiver is fixed: a replay sends the same delivery id and body again.
    handler.status = 200
    first = dead[-1]
    replayed = crm.api("POST", f"{one}/deliveries/{first['id']}/replay")
    assert replayed.status_code == 202
    done = wait_for(lambda: deliveries(crm, webhook, status="succeeded"))
    assert [d["id"] for d in done] == [first["id"]] and done[0]["attempts"] == 1
    last = handler.deliveries[-1]
    assert last["headers"]["X-Trellis-Delivery"] == str(first["id"])
    assert signed(last)["record"]["Name"] == "first"
    earlier = [
        d["body"]
        for d in handler.deliveries[:4]
        if d["headers"]["X-Trellis-Delivery"] == str(first["id"])
    ]
    assert earlier == [last["body"]] * 2
    # A success resets the count but does not switch the subscription on by itself.
    after = crm.api("GET", one).get_json()
    assert after["active"] is False and after["consecutive_failures"] == 0
    again = crm.api("PATCH", one, json={"active": True}).get_json()
    assert again["active"] is True and again["disabled_reason"] is None
    create_deal(crm, Name="fourth")
    assert wait_for(lambda: len(deliveries(crm, webhook, status="succeeded")) == 2)
    assert signed(handler.deliveries[-1])["record"]["Name"] == "fourth"


def _undispatched(tenant: TenantFixture) -> int:
    with tenant.app.extensions["trellis"].database.owner() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM events WHERE tenant_id = :t AND dispatched_at IS NULL"),
            {"t": tenant.id},
        ).scalar()


def test_subscriptions_are_per_tenant(
    crm: TenantFixture, other_tenant: TenantFixture, worker_app: Flask, receiver: Any
) -> None:
    url, handler = receiver
    webhook = subscribe(crm, url)
    other = dataclasses.replace(other_tenant, app=worker_app)
    assert other.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    create_deal(other, Name="not yours")
    assert wait_for(lambda: _undispatched(other) == 0)
    assert handler.deliveries == [] and deliveries(crm, webhook) == []
    one = f"/api/v1/webhooks/{webhook['id']}"
    assert other.api("GET", "/api/v1/webhooks").get_json()["data"] == []
    for method, path in (
        ("GET", one),
        ("PATCH", one),
        ("DELETE", one),
        ("GET", f"{one}/deliveries"),
    ):
        assert_envelope(
            other.api(method, path, json={"name": "x"} if method == "PATCH" else None), 404
        )
    create_deal(crm, Name="yours")
    [delivery] = wait_for(lambda: deliveries(crm, webhook, status="succeeded"))
    assert_envelope(other.api("POST", f"{one}/deliveries/{delivery['id']}/replay"), 404)
    assert [signed(d)["record"]["Name"] for d in handler.deliveries] == ["yours"]


def test_a_redispatch_never_doubles_and_lost_hand_offs_are_resent(
    crm: TenantFixture, receiver: Any, app: Flask, worker_app: Flask
) -> None:
    from trellis.outbox.dispatch import dispatch_pending
    from trellis.outbox.tasks import consumers_of

    url, handler = receiver
    webhook = subscribe(crm, url)
    create_deal(crm)
    [delivery] = wait_for(lambda: deliveries(crm, webhook, status="succeeded"))
    owner = app.extensions["trellis"].database.owner
    with owner() as connection:
        connection.execute(
            sa.text("UPDATE events SET dispatched_at = NULL WHERE tenant_id = :t"), {"t": crm.id}
        )
    state = app.extensions["trellis"]
    again = dispatch_pending(state.database, state.metadata_cache, consumers_of(state))
    assert [d for d in again["trellis.deliver_webhook"] if d[0] == crm.id] == []
    assert _undispatched(crm) == 0
    assert [d["id"] for d in deliveries(crm, webhook)] == [delivery["id"]]
    assert len(handler.deliveries) == 1

    # A queued delivery whose message never reached a worker is sent by the outbox sweep.
    with owner() as connection:
        connection.execute(
            sa.text(
                "UPDATE webhook_deliveries SET status = 'queued', "
                "created_at = now() - interval '1 minute' WHERE tenant_id = :t"
            ),
            {"t": crm.id},
        )
    worker_app.extensions["celery"].send_task("trellis.dispatch_events")
    assert wait_for(lambda: len(handler.deliveries) == 2)
    assert handler.deliveries[1]["headers"]["X-Trellis-Delivery"] == str(delivery["id"])
    assert handler.deliveries[1]["body"] == handler.deliveries[0]["body"]


def test_a_filter_broken_by_a_later_change_logs_why_nothing_was_sent(
    crm: TenantFixture, receiver: Any
) -> None:
    url, handler = receiver
    webhook = subscribe(crm, url, objects=["Opportunity"], filter="Touches > 1")
    deleted = crm.api("DELETE", "/api/v1/meta/objects/Opportunity/fields/Touches")
    assert deleted.status_code == 204, deleted.get_json()
    create_deal(crm)
    [skipped] = wait_for(lambda: deliveries(crm, webhook, status="skipped"))
    assert (
        skipped["error"].startswith("The filter could not be evaluated")
        and "Touches" in skipped["error"]
    )
    assert skipped["attempts"] == 0 and handler.deliveries == []
    replay = crm.api("POST", f"/api/v1/webhooks/{webhook['id']}/deliveries/{skipped['id']}/replay")
    assert_envelope(replay, 409)


def test_the_openapi_document_describes_webhooks(tenant: TenantFixture) -> None:
    spec = tenant.api("GET", "/api/v1/openapi.json").get_json()
    operations = {
        operation["operationId"]: operation
        for path, item in spec["paths"].items()
        if path.startswith("/webhooks")
        for operation in item.values()
    }
    assert set(operations) == {
        "listWebhooks",
        "createWebhook",
        "getWebhook",
        "changeWebhook",
        "deleteWebhook",
        "listWebhookDeliveries",
        "getWebhookDelivery",
        "replayWebhookDelivery",
    }
    assert all(operation["tags"] == ["Webhooks"] for operation in operations.values())
    schemas = spec["components"]["schemas"]
    assert schemas["WebhookSubscriptionInput"]["required"] == ["url", "secret"]
    assert "secret" not in schemas["WebhookSubscription"]["properties"]
