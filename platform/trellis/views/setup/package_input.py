"""A metadata package as the Setup form sends it: an uploaded file or pasted text, in
YAML or JSON, parsed as ``POST /api/v1/meta/package`` parses a body; and the errors an
import refuses it with, as lines that name where in the package each problem is."""

from __future__ import annotations

import dataclasses

from flask import request

from trellis.errors import BadRequest, TrellisError
from trellis.metadata.package_format import parse_package

FORMATS = ("yaml", "json")


@dataclasses.dataclass(frozen=True)
class PackageText:
    text: str
    format: str


@dataclasses.dataclass(frozen=True)
class Problem:
    where: str | None
    message: str


def submitted_package() -> PackageText:
    """The package the form sent: the uploaded file if there is one, else the text (a
    :class:`BadRequest` for neither, or for a file that is not UTF-8 text)."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The file is not UTF-8 text.", code="malformed_package") from None
        name = upload.filename.lower()
        return PackageText(text, "json" if name.endswith(".json") else _guessed(text))
    text = request.form.get("package", "").replace("\r\n", "\n")
    if not text.strip():
        raise BadRequest("Choose a package file or paste its text.", code="malformed_package")
    chosen = request.form.get("format", "")
    return PackageText(text, chosen if chosen in FORMATS else _guessed(text))


def _guessed(text: str) -> str:
    """JSON when the text is an object, YAML otherwise (JSON's errors name JSON)."""
    return "json" if text.lstrip().startswith("{") else "yaml"


def parsed(package: PackageText) -> object:
    return parse_package(package.text, package.format)


def problems(error: TrellisError) -> list[Problem]:
    """Each message of a refused import with the package path it is about
    (``objects.0.fields.2.type``); the error's message when it names none."""
    found = [
        Problem(key or None, message)
        for key, messages in (error.fields or {}).items()
        for message in ([messages] if isinstance(messages, str) else messages)
    ]
    return found or [Problem(None, error.message)]
