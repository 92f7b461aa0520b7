"""Built-in automation actions, registered through the public ``register_automation_actions``
hook exactly as a plugin's actions are.

Record actions (``update_fields``, ``create_record``, ``update_related``) write through
the records service inside the run's transaction; message actions (``send_email``,
``call_webhook``) prepare inside it and send after it commits.
"""

from __future__ import annotations

from typing import Any

from trellis.hookspecs import hookimpl

from .messages import CallWebhook, SendEmail
from .records import CreateRecord, UpdateFields, UpdateRelated

BUILTIN_ACTIONS = (UpdateFields, CreateRecord, UpdateRelated, SendEmail, CallWebhook)

__all__ = ["BUILTIN_ACTIONS", "register_automation_actions"]


@hookimpl
def register_automation_actions(registry: Any) -> None:
    """Register one instance of every built-in action type."""
    for action_type in BUILTIN_ACTIONS:
        registry.register(action_type())
