"""A workspace for mass actions and export from a list: deals a rep works on together.

- Deal (everyone reads every deal, only its owner and those above edit it:
  ``sharing_model: read``) has Name, Stage, Amount, Close date and Region (hidden from
  the rep by field-level security); the rule "A won deal needs a close date." refuses a
  deal set to Closed Won without one.
- ``deals`` of them, "Deal 01" upwards, owned by the rep, each with a close date but
  ``undated`` (numbers) without; and "Admin deal", the administrator's, which the rep
  may read but not edit.
- The rep holds the export right; ``colleague`` is another user to give deals to.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from access_helpers import PASSWORD, Member, create, member
from access_worlds import permission_set
from conftest import TenantFixture

RULE_MESSAGE = "A won deal needs a close date."
STAGES = ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]
DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "plural_label": "Deals",
    "sharing_model": "read",
    "fields": [
        {"api_name": "Name", "type": "text", "label": "Deal name", "required": True},
        {"api_name": "Stage", "type": "picklist", "label": "Stage", "values": STAGES},
        {"api_name": "Amount", "type": "currency", "label": "Amount"},
        {"api_name": "CloseDate", "type": "date", "label": "Close date"},
        {"api_name": "Region", "type": "text", "label": "Region"},
    ],
    "validation_rules": [
        {
            "name": "WonNeedsDate",
            "condition": 'AND(ISPICKVAL(Stage, "Closed Won"), ISBLANK(CloseDate))',
            "message": RULE_MESSAGE,
            "error_field": "CloseDate",
        }
    ],
}


@dataclasses.dataclass
class MassWorld:
    tenant: TenantFixture
    rep: Member
    colleague: Member
    rep_email: str
    password: str
    deals: dict[str, str]  # name -> id
    admin_deal: str

    def read(self, record_id: str) -> dict[str, Any]:
        response = self.tenant.api("GET", f"/api/v1/objects/Deal/records/{record_id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return dict(response.get_json())


def build_mass_world(
    tenant: TenantFixture, deals: int = 5, undated: tuple[int, ...] = ()
) -> MassWorld:
    response = tenant.api("POST", "/api/v1/meta/objects", json=DEAL)
    assert response.status_code == 201, response.get_data(as_text=True)
    permission_set(
        tenant,
        "dealing",
        system=["api", "export"],
        objects={"Deal": {"read": True, "create": True, "edit": True, "delete": True}},
        fields={"Deal.Region": {"read": False}},
    )
    rep = member(tenant, "rep", permission_sets=["dealing"])
    colleague = member(tenant, "colleague", permission_sets=["dealing"])
    values = [
        {
            "Name": f"Deal {number:02d}",
            "Stage": "Prospecting",
            "Amount": 100 * number,
            **({} if number in undated else {"CloseDate": f"2027-01-{number % 28 + 1:02d}"}),
        }
        for number in range(1, deals + 1)
    ]
    response = rep.api(
        "POST", "/api/v1/objects/Deal/bulk", json={"records": values, "atomic": True}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    created = {
        result["record"]["Name"]: result["record"]["id"]
        for result in response.get_json()["results"]
    }
    admin_deal = create(tenant, "Deal", Name="Admin deal", Stage="Prospecting", Region="North")
    return MassWorld(
        tenant, rep, colleague, f"rep@{tenant.slug}.test", PASSWORD, created, admin_deal
    )
