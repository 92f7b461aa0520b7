"""Actions that leave Trellis: an email, a signed webhook call. Both are prepared inside
the run's transaction (formulas read the record) and sent after it commits, so a slow
server never holds a database connection."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import TemplateError

from trellis.automation.actions import (
    ActionCheck,
    ActionFailed,
    ActionStep,
    ActionType,
    Check,
    json_value,
)
from trellis.config import Config

EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")


def template_values(step: ActionStep) -> dict[str, Any]:
    """What a message template sees: the triggering record's fields and its id."""
    values = {name: json_value(step.record.get(name)) for name in step.obj.fields}
    values["id"] = str(step.record.system.get("id"))
    return values


def render_template(template: str, values: dict[str, Any], what: str = "template") -> str:
    """A sandboxed Jinja2 template rendered over ``values``; failures fail the action."""
    from trellis.mail import render

    try:
        return render(template, values)
    except TemplateError as error:
        raise ActionFailed(f"The {what} failed: {error}") from None


def check_template(template: str) -> Check:
    """A definition-time check that ``template`` parses."""

    def check() -> None:
        from jinja2 import TemplateSyntaxError

        from trellis.errors import ValidationError
        from trellis.mail import TEMPLATES

        try:
            TEMPLATES.parse(template)
        except TemplateSyntaxError as error:
            raise ValidationError(
                "Invalid template.",
                fields={"": [f"Template error on line {error.lineno}: {error.message}"]},
            ) from None

    return check


def check_url(url: str) -> Check:
    """A definition-time check that ``url`` is one :func:`trellis.webhooks.outbound.deliver`
    will call (the check subscriptions get when saved), so a loopback or link-local
    address is refused now rather than four retries later."""

    def check() -> None:
        from trellis.errors import ValidationError
        from trellis.state import get_state
        from trellis.webhooks.destinations import DestinationRefused, check_destination

        try:
            check_destination(url, allow_private=get_state().config.webhook_allow_private)
        except DestinationRefused as error:
            raise ValidationError(error.message, fields={"": [error.message]}) from None

    return check


def post_json(
    config: Config,
    url: str,
    body: dict[str, Any],
    *,
    secret: str,
    delivery_id: str,
    method: str = "POST",
    timeout: float | None = None,
) -> None:
    """Deliver ``body`` through :func:`trellis.webhooks.outbound.deliver` (SSRF rules, signature,
    circuit breaker); a failed delivery fails the action."""
    from trellis.state import get_state
    from trellis.webhooks.circuit_breaker import CircuitBreaker
    from trellis.webhooks.outbound import deliver

    delivery = deliver(
        url,
        body,
        secret=secret,
        method=method,
        timeout=float(timeout or config.webhook_timeout_seconds),
        allow_private=config.webhook_allow_private,
        breaker=CircuitBreaker.from_config(get_state().redis, config),
        headers={"X-Trellis-Delivery": delivery_id},
    )
    if not delivery.ok:
        raise ActionFailed(
            f"Webhook {url} failed: {delivery.error or f'HTTP {delivery.status_code}'}"
        )


class SendEmail(ActionType):
    """Email recipients given as formulas; subject and body are templates over the record."""

    name = "send_email"

    def checks(self, check: ActionCheck, action: dict[str, Any]) -> Iterable[tuple[str, Check]]:
        for position, source in enumerate(action["to"]):
            yield f".to.{position}", check.formula(source, expected_type="text")
        for key in ("subject", "body"):
            yield f".{key}", check_template(action[key])

    def perform(self, step: ActionStep, action: dict[str, Any]) -> Callable[[], None]:
        from trellis.mail import MailError, build, send

        recipients = [step.evaluate(source) for source in action["to"]]
        bad = [str(r) for r in recipients if not isinstance(r, str) or not EMAIL.fullmatch(r)]
        if bad or not recipients:
            raise ActionFailed(f"Not an email address: {', '.join(bad) or 'none given'}.")
        values = template_values(step)
        message = build(
            step.config,
            recipients,
            render_template(action["subject"], values, "email template"),
            render_template(action["body"], values, "email template"),
        )

        def send_message() -> None:
            try:
                send(step.config, message)
            except MailError as error:
                raise ActionFailed(str(error)) from None

        return send_message


class CallWebhook(ActionType):
    """POST (PUT, PATCH) a signed JSON payload of formulas to a URL."""

    name = "call_webhook"
    secrets = ("secret",)

    def checks(self, check: ActionCheck, action: dict[str, Any]) -> Iterable[tuple[str, Check]]:
        if not check.is_stored(action, "url"):
            yield ".url", check_url(action["url"])
        for key, source in action.get("payload", {}).items():
            yield f".payload.{key}", check.formula(source)

    def perform(self, step: ActionStep, action: dict[str, Any]) -> Callable[[], None]:
        run = step.run
        body = {
            "automation": run.automation,
            "record_id": str(run.record_id),
            "trigger": run.trigger,
            "data": {
                key: json_value(step.evaluate(source))
                for key, source in action.get("payload", {}).items()
            },
        }
        return lambda: post_json(
            step.config,
            action["url"],
            body,
            secret=action["secret"],
            delivery_id=step.delivery_id,
            method=action.get("method", "POST"),
            timeout=action.get("timeout"),
        )
