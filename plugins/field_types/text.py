"""Text-like field types: text, long text, rich text, email, phone and URL.

They share one base, :class:`TextLikeType`: input is trimmed, blank becomes
``None``, the length is capped, and an optional pattern (shared verbatim with the
SQL predicate) decides the format. Types differ only in a few class attributes
and a ``prepare`` step.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any, ClassVar

import nh3

from trellis.metadata.field_types import TEXT_OPERATORS, FieldValueError

from .base import BuiltinFieldType, integer_property, require_text, sql_matches, sql_trimmed

#: The largest ``max_length`` any text field may have (128 KiB of characters).
MAX_TEXT_LENGTH = 131072

_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"

#: A strict, ASCII-only address: dot-atom local part of at most 64 characters and
#: a domain of letter-digit-hyphen labels whose last label starts with a letter.
EMAIL_PATTERN = (
    f"(?=[^@]{{1,64}}@){_ATOM}(?:\\.{_ATOM})*"
    f"@(?:{_LABEL}\\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
)

#: Digits with spaces and ``+ - ( ) .`` (at least three digits, ``+`` only first),
#: then an optional extension written ``x123``, ``ext 123`` or ``ext. 123``.
PHONE_PATTERN = (
    r"\+?(?=[ ().-]*[0-9][ ().-]*[0-9][ ().-]*[0-9])[0-9 ().-]+"
    r"(?: *(?:[xX]|[eE][xX][tT]\.?) *[0-9]{1,10})?"
)

#: What an erased person's text becomes where a field may not be blank (a name, say).
ANONYMISED = "Anonymised"
#: The domain of placeholder addresses: ``.invalid`` never resolves (RFC 2606).
ANONYMISED_DOMAIN = "anonymised.invalid"

_PORT = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"

#: http or https, a host name (or bracketed IP v6 address), an optional port up
#: to 65535, then a path, query or fragment without whitespace.
URL_PATTERN = (
    f"[hH][tT][tT][pP][sS]?://(?:{_LABEL}(?:\\.{_LABEL})*\\.?|\\[[0-9A-Fa-f:.]+\\])"
    f"(?::{_PORT})?(?:[/?#][^ \\t\\n\\r\\f\\v]*)?"
)


class TextLikeType(BuiltinFieldType):
    """A string stored as given (after ``prepare``), ``None`` when blank."""

    #: ``max_length`` when the definition has none (or the fixed limit).
    default_max_length: ClassVar[int] = 255
    #: Whether definitions may set ``max_length``; email, phone and URL have a fixed limit.
    configurable_length: ClassVar[bool] = True
    #: Pattern the trimmed value must match fully (shared with SQL), or None.
    pattern: ClassVar[str | None] = None
    #: Message when the pattern does not match.
    invalid_message: ClassVar[str] = ""
    #: JSON Schema ``format`` of the stored value, if one fits.
    schema_format: ClassVar[str | None] = None
    #: What to ask for when the value is not text at all.
    expected: ClassVar[str] = "text"

    operators = TEXT_OPERATORS
    personal_data = "personal"
    searchable = True
    properties: ClassVar[dict[str, Any]] = {
        "max_length": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_TEXT_LENGTH,
            "default": 255,
            "description": "Most characters a value may have.",
        },
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.configurable_length:
            cls.properties = {
                "max_length": {
                    **TextLikeType.properties["max_length"],
                    "default": cls.default_max_length,
                }
            }
        else:
            cls.properties = {}

    def max_length(self, field: dict[str, Any]) -> int:
        if not self.configurable_length:
            return self.default_max_length
        return integer_property(field, "max_length", self.default_max_length)

    def prepare(self, text: str) -> str:
        """Type-specific cleaning of already trimmed text."""
        return text

    def normalizer(self, field: dict[str, Any]) -> Callable[[Any], str | None]:
        limit = self.max_length(field)
        pattern = re.compile(self.pattern) if self.pattern else None

        def normalize(value: Any) -> str | None:
            if value is None:
                return None
            text = self.prepare(require_text(value, self.expected))
            if not text:
                return None
            if len(text) > limit:
                raise FieldValueError(f"At most {limit} characters.")
            if pattern is not None and not pattern.fullmatch(text):
                raise FieldValueError(self.invalid_message)
            return text

        return normalize

    def normalize(self, value: Any, field: dict[str, Any]) -> str | None:
        return self.normalizer(field)(value)

    def anonymised_value(self, field: dict[str, Any], record_id: uuid.UUID) -> Any:
        """ "Anonymised" (with the record's id where values are unique), within the length."""
        text = f"{ANONYMISED} {record_id.hex}" if field.get("unique") else ANONYMISED
        return text[: self.max_length(field)]

    def parse_filter_value(self, raw: str, field: dict[str, Any]) -> str:
        """The trimmed text, unchecked: ``contains`` and ``startswith`` take fragments
        (``?Email__contains=example``) that are not valid values on their own."""
        return self.prepare(require_text(raw, self.expected))

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": ["string", "null"],
            "minLength": 1,
            "maxLength": self.max_length(field),
        }
        if self.schema_format:
            schema["format"] = self.schema_format
        return schema

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        predicate = f"(length({sql_trimmed(text_expression)}) <= {self.max_length(field)})"
        if self.pattern:
            predicate = f"({predicate} AND {sql_matches(text_expression, self.pattern)})"
        return predicate


class TextType(TextLikeType):
    """One line of text, such as a name or a title."""

    name = "text"
    usable_as_name = True
    usable_as_external_id = True
    widget = "text"


class LongTextType(TextLikeType):
    """Multi-line plain text; inner line breaks are kept (as ``\\n``).

    Not sortable or indexable: values up to 32K characters do not fit a B-tree
    index entry, and sorting by a paragraph means nothing to a user.
    """

    name = "long_text"
    widget = "textarea"
    default_max_length = 32768
    sortable = False
    operators = ("contains", "isnull")

    def prepare(self, text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n")


class RichTextType(LongTextType):
    """HTML, sanitised with nh3 so that stored markup is always safe to render.

    The length limit applies to the sanitised HTML, which is what is stored.
    """

    name = "rich_text"
    widget = "rich_text"
    default_max_length = MAX_TEXT_LENGTH

    def prepare(self, text: str) -> str:
        return nh3.clean(super().prepare(text)).strip()

    def search_text(self, stored: Any, field: dict[str, Any]) -> str | None:
        """The words of the (sanitised) HTML without its tags: search finds and shows
        what a reader sees, never markup."""
        if not isinstance(stored, str) or not stored:
            return None
        return plain_text(stored) or None


class _TextCollector(HTMLParser):
    """Collects an HTML document's text; tags become spaces so that ``<p>a</p><p>b</p>``
    reads as two words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(markup: str) -> str:
    """The text of HTML ``markup``, whitespace collapsed."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return " ".join(html.unescape("".join(collector.parts)).split())


class EmailType(TextLikeType):
    """An email address, kept as typed (trimmed): the local part may be case-sensitive."""

    name = "email"
    usable_as_external_id = True
    widget = "email"
    default_max_length = 254
    configurable_length = False
    pattern = EMAIL_PATTERN
    invalid_message = "Enter a valid email address, e.g. name@example.com."
    schema_format = "email"
    expected = "an email address"
    personal_data = "email"

    def anonymised_value(self, field: dict[str, Any], record_id: uuid.UUID) -> Any:
        """An address of the record's own that can never receive mail."""
        return f"anonymised-{record_id.hex}@{ANONYMISED_DOMAIN}"


class PhoneType(TextLikeType):
    """A phone number as people write it; not reformatted, since formats vary by country."""

    name = "phone"
    widget = "phone"
    default_max_length = 40
    configurable_length = False
    pattern = PHONE_PATTERN
    invalid_message = (
        "Enter a phone number: digits, spaces and + - ( ) . "
        "with an optional extension such as x123."
    )
    expected = "a phone number"

    def anonymised_value(self, field: dict[str, Any], record_id: uuid.UUID) -> Any:
        """Zeros, nobody's number (digits of the record's id after them where values are
        unique)."""
        return f"000 {record_id.int % 10**12:012d}" if field.get("unique") else "000"


class UrlType(TextLikeType):
    """A web address; only http and https, so a stored link can never run script."""

    name = "url"
    widget = "url"
    default_max_length = 2048
    configurable_length = False
    pattern = URL_PATTERN
    invalid_message = (
        "Enter a web address starting with http:// or https://, e.g. https://example.com."
    )
    schema_format = "uri"
    expected = "a web address"

    def anonymised_value(self, field: dict[str, Any], record_id: uuid.UUID) -> Any:
        return f"https://{ANONYMISED_DOMAIN}/{record_id.hex}"


TEXT_TYPES = (TextType, LongTextType, RichTextType, EmailType, PhoneType, UrlType)
