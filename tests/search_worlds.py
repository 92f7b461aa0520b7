"""A workspace for global search: accounts with words in many kinds of field, one field
the sales rep may not read, private deals, and an object the rep may not read.

- Account (open to all): Name, Notes (long text), Body (rich text), Email, Website,
  Tier (picklist: value ``gold``, label "Gold tier"), Score (number: never searched),
  Private_notes (long text, hidden from the rep by field-level security).
- Deal (private: each rep reads their own): Name, Notes.
- Secret: not readable by the rep.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from access_helpers import PASSWORD, Member, member
from access_worlds import permission_set
from conftest import TenantFixture
from screen_worlds import reading

from trellis.records.global_search import CANDIDATES, FoundGroup, query_words, search_records
from trellis.views.shell import navigation

ACCOUNT_FIELDS: list[dict[str, Any]] = [
    {"api_name": "Name", "type": "text", "required": True},
    {"api_name": "Notes", "label": "Notes", "type": "long_text"},
    {"api_name": "Body", "label": "Body", "type": "rich_text"},
    {"api_name": "Email", "label": "Email", "type": "email"},
    {"api_name": "Website", "label": "Website", "type": "url"},
    {
        "api_name": "Tier",
        "label": "Tier",
        "type": "picklist",
        "values": [{"value": "gold", "label": "Gold tier"}, "silver"],
    },
    {"api_name": "Score", "type": "number"},
    {"api_name": "Private_notes", "label": "Private notes", "type": "long_text"},
]
RIGHTS = {"read": True, "create": True, "edit": True, "delete": True}


@dataclasses.dataclass
class SearchWorld:
    tenant: TenantFixture
    rep: Member
    rep_email: str
    password: str


def build_search_world(tenant: TenantFixture) -> SearchWorld:
    definitions = (
        {"api_name": "Account", "label": "Account", "plural_label": "Accounts"},
        {"api_name": "Deal", "label": "Deal", "plural_label": "Deals", "sharing_model": "private"},
        {"api_name": "Secret", "label": "Secret", "plural_label": "Secrets"},
    )
    for definition in definitions:
        fields = ACCOUNT_FIELDS if definition["api_name"] == "Account" else ACCOUNT_FIELDS[:2]
        response = tenant.api("POST", "/api/v1/meta/objects", json={**definition, "fields": fields})
        assert response.status_code == 201, response.get_data(as_text=True)
    permission_set(
        tenant,
        "sales",
        objects={"Account": RIGHTS, "Deal": RIGHTS},
        fields={"Account.Private_notes": {"read": False}},
    )
    rep = member(tenant, "rep", permission_sets=["sales"])
    return SearchWorld(tenant, rep, f"rep@{tenant.slug}.test", PASSWORD)


def found(
    tenant: TenantFixture, email: str, text: str, per_object: int = 10, cap: int = CANDIDATES
) -> list[FoundGroup]:
    """The groups the global search finds for the user (ranking at most ``cap`` matches
    per object)."""
    with reading(tenant, email) as reader:
        return search_records(
            reader.connection,
            reader.access,
            reader.schema,
            navigation(reader.schema, reader.access),
            query_words(text),
            per_object,
            cap=cap,
        )


def names(groups: list[FoundGroup]) -> dict[str, list[str]]:
    """{object: [record names]} in the order found."""
    return {
        group.object.api_name: [hit.name.text if hit.name else "?" for hit in group.hits]
        for group in groups
    }
