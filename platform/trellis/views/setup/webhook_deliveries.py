"""A webhook's delivery log in Setup (newest first, by status, paged) and replaying a
delivery, through :mod:`trellis.webhooks.manage` as ``/api/v1/webhooks`` does."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import Conflict
from trellis.outbox.worker_nudges import nudge_worker
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.webhooks import manage
from trellis.webhooks.deliveries import REPLAYABLE
from trellis.webhooks.subscriptions import subscription_json, webhook_deliveries

STATUSES = ("queued", "sending", "succeeded", "failed", "dead", "skipped")
PAGE_SIZE = 50


@blueprint.get("/webhooks/<uuid:webhook_id>/deliveries")
def webhook_log(webhook_id: uuid.UUID) -> ResponseReturnValue:
    with setup_screen(manage.RIGHT) as current:
        row = manage.subscription(current.connection, current.actor, webhook_id)
        table = webhook_deliveries.c
        query = sa.select(webhook_deliveries).where(table.subscription_id == webhook_id)
        status = request.args.get("status", "")
        if status in STATUSES:
            query = query.where(table.status == status)
        cursor = request.args.get("cursor", "")
        if cursor.isdigit() and len(cursor) < 19:
            query = query.where(table.id < int(cursor))
        rows = current.connection.execute(
            query.order_by(table.id.desc()).limit(PAGE_SIZE + 1)
        ).all()
        page = rows[:PAGE_SIZE]
        return render_template(
            "setup/integrations/webhook_deliveries.html",
            section="webhooks",
            webhook=subscription_json(row, current.schema),
            deliveries=page,
            status=status if status in STATUSES else "",
            statuses=STATUSES,
            replayable=REPLAYABLE,
            older=page[-1].id if len(rows) > PAGE_SIZE else None,
            paged=bool(cursor),
        )


@blueprint.post("/webhooks/<uuid:webhook_id>/deliveries/<int:delivery_id>/replay")
def webhook_replay(webhook_id: uuid.UUID, delivery_id: int) -> ResponseReturnValue:
    back = url_for("setup.webhook_log", webhook_id=webhook_id, status=request.form.get("status"))
    with setup_screen(manage.RIGHT, with_shell=False) as current:
        try:
            manage.replay_delivery(
                current.connection,
                current.actor,
                webhook_id,
                delivery_id,
                origin=manage.Origin(request.remote_addr, request.user_agent.string),
            )
        except Conflict as error:
            flash(error.message)
            return redirect(back)
        tenant_id = current.actor.tenant_id
    # After the commit, as the API does; a lost hand-off is re-sent by the outbox sweep.
    nudge_worker("trellis.deliver_webhook", str(tenant_id), delivery_id)
    flash(f"Delivery {delivery_id} is queued to be sent again.")
    return redirect(back)
