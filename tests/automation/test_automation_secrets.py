"""Action secrets are write-only (API, revisions, packages, the command line), an update
that leaves them out keeps them, and a webhook action's URL is checked when it is saved."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from factories import CRM_OPPORTUNITY, CRM_TASK, add_automation, runs
from flask import Flask
from helpers import assert_envelope, run_cli, wait_for

from trellis.identity.tokens import create_token
from trellis.identity.users import create_user
from trellis.metadata.secrets import SECRET_MASK
from trellis.metadata.tables import meta_objects
from trellis.webhooks.signing import verify

SECRET = "old-signing-secret"
ROTATED = "new-signing-secret"
HOOK = {
    "api_name": "notify_erp",
    "object": "Opportunity",
    "trigger": "created",
    "timing": "after_save",
    "actions": [
        {
            "type": "call_webhook",
            "url": "http://127.0.0.1:9/hook",
            "secret": SECRET,
            "payload": {"name": "Name"},
        },
        {
            "type": "chat.post_message",
            "url": "http://127.0.0.1:9/chat",
            "text": "hi",
            "secret": SECRET,
        },
    ],
}


def _objects(tenant: TenantFixture) -> None:
    for definition in (CRM_OPPORTUNITY, CRM_TASK):
        assert tenant.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201


def _viewer_tokens(tenant: TenantFixture) -> dict[str, str]:
    """The administrator's token, a read-only token of theirs and a member's token."""
    database = tenant.app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        read_only, _ = create_token(
            connection, tenant.actor, user_id=tenant.admin_id, name="reports", scopes=["read"]
        )
        member = create_user(
            connection, tenant.actor, email=f"member@{tenant.slug}.test", password=None
        )
        member_token, _ = create_token(connection, tenant.actor, user_id=member.id, name="m")
    return {"admin": tenant.token, "read_only": read_only, "member": member_token}


def _stored_actions(tenant: TenantFixture, automation: str = "notify_erp") -> list[dict[str, Any]]:
    """The automation's actions as the database holds them."""
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        definition = connection.execute(
            sa.select(meta_objects.c.definition).where(meta_objects.c.api_name == "Opportunity")
        ).scalar_one()
    return next(a for a in definition["automations"] if a["api_name"] == automation)["actions"]


@pytest.fixture()
def hooked(tenant: TenantFixture) -> TenantFixture:
    _objects(tenant)
    add_automation(tenant, HOOK)
    return tenant


def _replace(tenant: TenantFixture, automation: dict[str, Any], app: Flask | None = None) -> Any:
    return tenant.api(
        "PUT", f"/api/v1/meta/automations/{automation['api_name']}", json=automation, app=app
    )


@pytest.mark.parametrize("viewer", ["admin", "read_only", "member"])
def test_no_channel_shows_a_secret(hooked: TenantFixture, viewer: str) -> None:
    rotated = json.loads(json.dumps(HOOK))
    rotated["actions"][0]["secret"] = ROTATED
    assert _replace(hooked, rotated).status_code == 200
    assert _stored_actions(hooked)[0]["secret"] == ROTATED
    token = _viewer_tokens(hooked)[viewer]
    revisions = hooked.api("GET", "/api/v1/meta/revisions", token=token)
    assert revisions.status_code == 200
    numbers = [row["revision"] for row in revisions.get_json()["data"]]
    responses = [
        hooked.api("GET", path, token=token)
        for path in (
            "/api/v1/meta/automations",
            "/api/v1/meta/automations/notify_erp",
            "/api/v1/meta/objects",
            "/api/v1/meta/objects/Opportunity",
            *(f"/api/v1/meta/revisions/{number}" for number in numbers),
        )
    ]
    for response in [revisions, *responses]:
        assert response.status_code == 200, response.get_json()
        text = response.get_data(as_text=True)
        assert SECRET not in text and ROTATED not in text, response.request.path
    automation = responses[1].get_json()
    # The key stays, masked: a client can tell a secret is set.
    assert [action["secret"] for action in automation["actions"]] == [SECRET_MASK, SECRET_MASK]
    assert automation["actions"][0]["url"] == "http://127.0.0.1:9/hook"
    rotation = responses[4].get_json()  # the newest revision: the rotation
    [change] = [item for item in rotation["diff"] if item.get("property") == "automations"]
    assert change["new"][0]["actions"][0]["secret"] == SECRET_MASK
    exported = hooked.api("GET", "/api/v1/meta/package", token=token)
    if viewer == "admin":
        assert exported.status_code == 200
        assert SECRET not in exported.get_data(as_text=True)
        assert ROTATED not in exported.get_data(as_text=True)
    else:
        assert_envelope(exported, 403)


def test_the_command_line_export_masks_secrets(app: Flask, hooked: TenantFixture) -> None:
    for output_format in ("yaml", "json"):
        result = run_cli(
            app, "metadata", "export", "--tenant", hooked.slug, "--format", output_format
        )
        assert result.exit_code == 0, result.output
        assert "notify_erp" in result.output and SECRET_MASK in result.output
        assert SECRET not in result.output


def test_an_update_without_the_secret_keeps_it(hooked: TenantFixture) -> None:
    shown = hooked.api("GET", "/api/v1/meta/automations/notify_erp").get_json()
    shown.pop("warnings", None)
    # GET, change the label, PUT back: the masks keep the stored secrets.
    assert _replace(hooked, {**shown, "label": "Notify the ERP"}).status_code == 200
    assert [a["secret"] for a in _stored_actions(hooked)] == [SECRET, SECRET]
    # Leaving the secret out keeps it too; null removes an optional one.
    webhook = {k: v for k, v in shown["actions"][0].items() if k != "secret"}
    chat = {**shown["actions"][1], "secret": None}
    assert _replace(hooked, {**shown, "actions": [webhook, chat]}).status_code == 200
    stored = _stored_actions(hooked)
    assert stored[0]["secret"] == SECRET and "secret" not in stored[1]
    assert _stored_actions(hooked)[0]["url"] == HOOK["actions"][0]["url"]
    # A mask with nothing stored behind it is refused, and nothing is saved.
    revisions = len(hooked.api("GET", "/api/v1/meta/revisions").get_json()["data"])
    refused = _replace(hooked, {**shown, "actions": [webhook, {**chat, "secret": SECRET_MASK}]})
    errors = assert_envelope(refused, 422)["errors"]
    assert "send the secret itself" in errors["automations.notify_erp.actions.1.secret"][0]
    assert len(hooked.api("GET", "/api/v1/meta/revisions").get_json()["data"]) == revisions
    assert "secret" not in _stored_actions(hooked)[1]
    new = {**HOOK, "api_name": "other", "actions": [{**webhook, "secret": SECRET_MASK}]}
    errors = assert_envelope(hooked.api("POST", "/api/v1/meta/automations", json=new), 422)
    assert "automations.other.actions.0.secret" in errors["errors"]


def test_the_round_tripped_webhook_is_signed_with_the_old_secret(
    crm: TenantFixture,
    receiver: Any,
) -> None:
    url, handler = receiver
    add_automation(crm, {**HOOK, "actions": [{**HOOK["actions"][0], "url": url}]})
    shown = crm.api("GET", "/api/v1/meta/automations/notify_erp").get_json()
    shown.pop("warnings", None)
    assert _replace(crm, {**shown, "description": "renamed"}).status_code == 200
    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "Acme"})
    assert wait_for(lambda: runs(crm, automation="notify_erp", status="succeeded"))
    [delivery] = handler.deliveries
    headers = delivery["headers"]
    assert verify(
        SECRET, headers["X-Trellis-Timestamp"], headers["X-Trellis-Signature"], delivery["body"]
    )


def test_a_package_round_trip_keeps_secrets_and_a_foreign_one_needs_them(
    hooked: TenantFixture, other_tenant: TenantFixture
) -> None:
    package = hooked.api("GET", "/api/v1/meta/package").get_json()
    back = hooked.api("POST", "/api/v1/meta/package", json=package)
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["changed"] is False
    assert [a["secret"] for a in _stored_actions(hooked)] == [SECRET, SECRET]
    # Changing something else in the package still keeps them, and the plan masks them.
    [opportunity] = [o for o in package["objects"] if o["api_name"] == "Opportunity"]
    opportunity["automations"][0]["description"] = "imported"
    changed = hooked.api("POST", "/api/v1/meta/package", json=package)
    assert changed.get_json()["changed"] is True
    assert SECRET not in changed.get_data(as_text=True)
    assert [a["secret"] for a in _stored_actions(hooked)] == [SECRET, SECRET]
    # Another tenant has no secret to keep: refused, naming each secret; nothing imported.
    foreign = other_tenant.api("POST", "/api/v1/meta/package", json=package)
    errors = assert_envelope(foreign, 422)["errors"]
    assert {
        "Opportunity.automations.notify_erp.actions.0.secret",
        "Opportunity.automations.notify_erp.actions.1.secret",
    } <= set(errors)
    assert other_tenant.api("GET", "/api/v1/meta/objects").get_json()["data"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:8080/hook",
    ],
)
def test_a_webhook_url_is_refused_when_saved(
    tenant: TenantFixture, make_app: Any, url: str
) -> None:
    strict = make_app(webhook_allow_private=False)
    _objects(tenant)
    before = tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"]
    webhook = {**HOOK["actions"][0], "url": url}
    created = tenant.api(
        "POST", "/api/v1/meta/automations", json={**HOOK, "actions": [webhook]}, app=strict
    )
    errors = assert_envelope(created, 422)["errors"]
    assert "address" in errors["automations.notify_erp.actions.0.url"][0]
    assert tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"] == before
    assert tenant.api("GET", "/api/v1/meta/automations").get_json()["data"] == []
    # Changing a saved automation's URL to it is refused the same way.
    add_automation(tenant, {**HOOK, "actions": [{**webhook, "url": "https://192.0.2.1/x"}]})
    changed = _replace(tenant, {**HOOK, "actions": [webhook]}, app=strict)
    assert "automations.notify_erp.actions.0.url" in assert_envelope(changed, 422)["errors"]
    assert _stored_actions(tenant)[0]["url"] == "https://192.0.2.1/x"


def test_a_stored_url_is_not_checked_again(tenant: TenantFixture, make_app: Any) -> None:
    # Saved where private addresses were allowed: editing something else still works.
    _objects(tenant)
    add_automation(tenant, HOOK)
    strict = make_app(webhook_allow_private=False)
    changed = _replace(tenant, {**HOOK, "label": "ERP"}, app=strict)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["label"] == "ERP"
