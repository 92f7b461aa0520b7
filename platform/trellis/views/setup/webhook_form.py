"""The webhook subscription form: what it sends, as the API's JSON body, and what it
shows again after a refusal (the typed values and each property's errors)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import request

from trellis.metadata.compiled import TenantSchema
from trellis.webhooks.subscriptions import EVENT_TYPES


@dataclasses.dataclass(frozen=True)
class WebhookForm:
    """The values the form shows."""

    name: str = ""
    description: str = ""
    url: str = ""
    objects: tuple[str, ...] = ()
    event_types: tuple[str, ...] = EVENT_TYPES
    filter: str = ""
    active: bool = True
    # Whether a secret is stored (editing: left empty, it is kept).
    has_secret: bool = False


def form_of(shown: dict[str, Any]) -> WebhookForm:
    """The form of a stored subscription (as :func:`subscription_json` shows it)."""
    return WebhookForm(
        name=shown["name"] or "",
        description=shown["description"] or "",
        url=shown["url"],
        objects=tuple(shown["objects"]),
        event_types=tuple(shown["event_types"]),
        filter=shown["filter"] or "",
        active=shown["active"],
        has_secret=True,
    )


def submitted(*, editing: bool) -> tuple[dict[str, Any], WebhookForm]:
    """The API body the form stands for, and the form to show again. An empty secret
    while editing keeps the stored one, as leaving ``secret`` out of a PATCH does."""
    form = request.form
    body: dict[str, Any] = {
        "name": form.get("name", "").strip() or None,
        "description": form.get("description", "").strip() or None,
        "url": form.get("url", "").strip(),
        "objects": form.getlist("objects"),
        "event_types": form.getlist("event_types"),
        "filter": form.get("filter", "").strip() or None,
        "active": form.get("active") == "yes",
    }
    secret = form.get("secret", "")
    if secret or not editing:
        body["secret"] = secret
    again = WebhookForm(
        name=body["name"] or "",
        description=body["description"] or "",
        url=body["url"],
        objects=tuple(body["objects"]),
        event_types=tuple(body["event_types"]),
        filter=body["filter"] or "",
        active=body["active"],
        has_secret=editing,
    )
    return body, again


def field_errors(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service's errors by form control: ``objects.2`` belongs to ``objects``."""
    errors: dict[str, list[str]] = {}
    for key, messages in fields.items():
        errors.setdefault(key.split(".")[0], []).extend(messages)
    return errors


def object_choices(schema: TenantSchema) -> list[tuple[str, str]]:
    """(api name, label) of every object a subscription may name, by label."""
    choices = [
        (obj.api_name, str(obj.definition.get("label") or obj.api_name))
        for obj in schema.objects.values()
    ]
    return sorted(choices, key=lambda choice: choice[1].lower())
