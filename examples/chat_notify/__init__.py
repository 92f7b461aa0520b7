"""An example plugin: an automation action posting a message to a chat channel.

``chat.post_message`` sends ``{"text": ...}`` to a Slack-compatible incoming-webhook
URL (Slack, Mattermost, Rocket.Chat and others accept it). The text is a sandboxed
Jinja2 template over the triggering record, as an email's subject and body are, and
the call goes through :func:`trellis.webhooks.outbound.deliver`: the SSRF rules, the timeout
and the per-destination circuit breaker apply as to any webhook. Enable it with
``TRELLIS_PLUGIN_MODULES=trellis.examples.chat_notify`` (servers and workers alike).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from trellis.automation.actions import ActionCheck, ActionStep, ActionType, Check
from trellis.hookspecs import hookimpl
from trellis.plugins.automation_actions.messages import (
    check_template,
    post_json,
    render_template,
    template_values,
)


class PostChatMessage(ActionType):
    """Post a message, rendered from the record, to a chat incoming webhook."""

    name = "chat.post_message"
    properties = {
        "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "text": {"type": "string", "minLength": 1, "maxLength": 4000},
        # Optional: receivers that verify Trellis signatures (Slack ignores them).
        "secret": {"type": "string", "minLength": 8, "maxLength": 200},
    }
    required = ("url", "text")
    secrets = ("secret",)

    def checks(self, check: ActionCheck, action: dict[str, Any]) -> Iterable[tuple[str, Check]]:
        yield ".text", check_template(action["text"])

    def perform(self, step: ActionStep, action: dict[str, Any]) -> Callable[[], None]:
        text = render_template(action["text"], template_values(step), "message template")
        # The URL of an incoming webhook is its credential; with no secret of its own
        # the signature only has to be well-formed.
        return lambda: post_json(
            step.config,
            action["url"],
            {"text": text},
            secret=action.get("secret", ""),
            delivery_id=step.delivery_id,
        )


@hookimpl
def register_automation_actions(registry: Any) -> None:
    """Register ``chat.post_message``."""
    registry.register(PostChatMessage())
