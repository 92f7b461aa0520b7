"""Setup's webhooks: subscriptions listed, created, changed and deleted through
:mod:`trellis.webhooks.manage`, the service ``/api/v1/webhooks`` uses, so the same
checks (destination, filter formula, secret length) refuse the same things and each
change is audited alike. The secret is write-only here too: never shown once saved."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import ValidationError
from trellis.state import get_state
from trellis.views.setup import webhook_deliveries
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.setup.webhook_form import (
    WebhookForm,
    field_errors,
    form_of,
    object_choices,
    submitted,
)
from trellis.views.shell import Screen
from trellis.webhooks import manage
from trellis.webhooks.subscriptions import (
    EVENT_TYPES,
    SECRET_LENGTH,
    subscription_json,
)
from trellis.webhooks.subscriptions import (
    webhook_deliveries as deliveries_table,
)

RIGHT = manage.RIGHT

SECTIONS: tuple[Section, ...] = (
    Section(
        "webhooks",
        "Webhooks",
        "setup.webhooks",
        RIGHT,
        "Access",
        "Send record changes to other systems, signed, with a delivery log and replay.",
    ),
)
# The delivery log's routes are on the same blueprint; its module is imported for them.
__all__ = ["SECTIONS", "webhook_deliveries"]


def origin() -> manage.Origin:
    return manage.Origin(request.remote_addr, request.user_agent.string)


@blueprint.get("/webhooks")
def webhooks() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        rows = manage.subscriptions(current.connection, current.actor)
        return render_template(
            "setup/integrations/webhooks.html",
            section="webhooks",
            webhooks=[subscription_json(row, current.schema) for row in rows],
        )


def _form_page(
    current: Screen,
    form: WebhookForm,
    *,
    webhook: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> ResponseReturnValue:
    page = render_template(
        "setup/integrations/webhook_form.html",
        section="webhooks",
        form=form,
        webhook=webhook,
        errors=errors or {},
        object_choices=object_choices(current.schema),
        event_types=EVENT_TYPES,
        secret_length=SECRET_LENGTH,
    )
    return page, 422 if errors else 200


@blueprint.get("/webhooks/new")
def webhook_new() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        return _form_page(current, WebhookForm())


@blueprint.post("/webhooks/new")
def webhook_create() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        body, again = submitted(editing=False)
        try:
            row = manage.create_subscription(
                current.connection,
                current.actor,
                current.schema,
                body,
                allow_private=get_state().config.webhook_allow_private,
                origin=origin(),
            )
        except ValidationError as error:
            return _form_page(current, again, errors=field_errors(error.fields))
    flash(f"Webhook “{row.name or row.url}” was created.")
    return redirect(url_for("setup.webhooks"))


@blueprint.get("/webhooks/<uuid:webhook_id>/edit")
def webhook_edit(webhook_id: uuid.UUID) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        row = manage.subscription(current.connection, current.actor, webhook_id)
        shown = subscription_json(row, current.schema)
        return _form_page(current, form_of(shown), webhook=shown)


@blueprint.post("/webhooks/<uuid:webhook_id>/edit")
def webhook_change(webhook_id: uuid.UUID) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        row = manage.subscription(current.connection, current.actor, webhook_id)
        body, again = submitted(editing=True)
        try:
            row = manage.change_subscription(
                current.connection,
                current.actor,
                current.schema,
                webhook_id,
                body,
                allow_private=get_state().config.webhook_allow_private,
                origin=origin(),
            )
        except ValidationError as error:
            shown = subscription_json(row, current.schema)
            return _form_page(current, again, webhook=shown, errors=field_errors(error.fields))
    flash(f"Webhook “{row.name or row.url}” was saved.")
    return redirect(url_for("setup.webhooks"))


@blueprint.get("/webhooks/<uuid:webhook_id>/delete")
def webhook_delete_confirm(webhook_id: uuid.UUID) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        row = manage.subscription(current.connection, current.actor, webhook_id)
        logged = current.connection.execute(
            sa.select(sa.func.count()).where(deliveries_table.c.subscription_id == webhook_id)
        ).scalar_one()
        return render_template(
            "setup/integrations/webhook_delete.html",
            section="webhooks",
            webhook=subscription_json(row, current.schema),
            deliveries=logged,
        )


@blueprint.post("/webhooks/<uuid:webhook_id>/delete")
def webhook_delete(webhook_id: uuid.UUID) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        row = manage.subscription(current.connection, current.actor, webhook_id)
        manage.delete_subscription(current.connection, current.actor, webhook_id, origin=origin())
    flash(f"Webhook “{row.name or row.url}” was deleted, with its delivery log.")
    return redirect(url_for("setup.webhooks"))
