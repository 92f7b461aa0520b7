"""Words for Setup's object screens: API names suggested from labels, and field types
and their properties named for people."""

from __future__ import annotations

import re
import unicodedata

# The system right every object screen needs.
RIGHT = "manage_metadata"
API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
MAX_API_NAME = 63

# How a property of a field type is labelled on the form, where its name alone says
# little; any other property is labelled from its name ("max_length": "Max length").
PROPERTY_LABELS = {
    "target": "Related object",
    "on_delete": "When the related record is deleted",
    "relationship_name": "Related list name",
    "precision": "Precision (total digits)",
    "scale": "Decimal places",
    "expression": "Formula",
    "return_type": "Result type",
    "blank_mode": "Blank numbers",
    "summarized_object": "Summarised object",
    "relationship_field": "Through its lookup",
    "function": "Summary",
    "summarized_field": "Field to summarise",
    "filter": "Only records where",
    "format": "Display format",
    "start": "First number",
    "max_length": "Maximum length",
    "values": "Values",
}
OPTION_LABELS = {
    "restrict": "Prevent the deletion",
    "set_null": "Clear this field",
    "cascade": "Delete this record too",
    "blank": "Treat as blank",
    "zero": "Treat as zero",
    "COUNT": "Count",
    "SUM": "Sum",
    "MIN": "Minimum",
    "MAX": "Maximum",
    "AVG": "Average",
}
SHARING_MODELS = {
    "private": "Private: only the owner and those above them",
    "read": "Public read only",
    "read_write": "Public read and write",
    "controlled_by_parent": "Controlled by parent",
}


def humanize(name: str) -> str:
    """``multi_picklist`` as "Multi picklist"."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def property_label(name: str) -> str:
    return PROPERTY_LABELS.get(name, humanize(name))


def option_label(value: str) -> str:
    return OPTION_LABELS.get(value, humanize(value))


def api_name_from(label: str) -> str:
    """An API name suggested from a label: accents dropped, each run of other characters
    an underscore, a letter first ("2024 Plan" gives "X2024_Plan"); "" for no letters or
    digits at all. setup_objects.js suggests the same as the admin types."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_")
    name = re.sub(r"_+", "_", name)
    if not name:
        return ""
    if not name[0].isalpha():
        name = "X" + name
    return name[:MAX_API_NAME].rstrip("_")


SHARING_SHORT = {
    "private": "Private",
    "read": "Public read only",
    "read_write": "Public read/write",
    "controlled_by_parent": "Controlled by parent",
}
