"""Outbound email, with the backend chosen in configuration.

``console`` logs each message (development), ``file`` writes ``.eml`` files into the
instance folder (development and tests: a worker process and the test can both see
them), ``smtp`` sends through ``TRELLIS_SMTP_URL`` with a timeout.
"""

from __future__ import annotations

import email.message
import email.utils
import logging
import smtplib
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2.sandbox import SandboxedEnvironment

from trellis.config import Config

log = logging.getLogger(__name__)
# Templates see record values and nothing else: no attribute access to Python objects.
TEMPLATES = SandboxedEnvironment(autoescape=False)
SMTP_TIMEOUT_SECONDS = 15


class MailError(Exception):
    """The message could not be handed to the mail server."""


def render(template: str, values: dict) -> str:
    return TEMPLATES.from_string(template).render(**values)


def build(config: Config, to: list[str], subject: str, body: str) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"] = config.mail_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject.replace("\n", " ").strip()[:250]
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain="trellis")
    message.set_content(body)
    return message


def send(config: Config, message: email.message.EmailMessage) -> None:
    backend = config.mail_backend
    if backend == "console":
        log.info(
            "email",
            extra={
                "to": message["To"],
                "subject": message["Subject"],
                "body": message.get_content(),
            },
        )
    elif backend == "file":
        folder = Path(config.instance_path) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.as_bytes())
    elif backend == "smtp":
        _smtp(config, message)
    else:
        raise MailError(f"Unknown mail backend {backend!r}; use console, file or smtp.")


def _smtp(config: Config, message: email.message.EmailMessage) -> None:
    url = urlsplit(config.smtp_url or "")
    if url.scheme not in {"smtp", "smtps"} or not url.hostname:
        raise MailError("Set TRELLIS_SMTP_URL, e.g. smtp://user:password@mail.example:587.")
    connect = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    try:
        with connect(
            url.hostname,
            url.port or (465 if url.scheme == "smtps" else 587),
            timeout=SMTP_TIMEOUT_SECONDS,
        ) as server:
            if url.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls()
            if url.username:
                server.login(unquote(url.username), unquote(url.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"The mail server refused or did not answer: {error}") from None
