"""A workspace for the list screen's tests: deals to page through, an account the sales
rep may not read, and a field hidden from them.

- Account is private (each rep reads their own): "Acme Corporation" is the rep's, "Globex
  Ltd" the administrator's, so the rep sees Globex deals' account as a restricted record.
- Deal (open to all) has Name, Amount, Stage, Close date, Account, Margin (hidden from the
  rep by field-level security) and Notes; ``deals`` of them, "Deal 001" upwards, amounts
  1,000 apart, every other one at Acme.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from access_helpers import PASSWORD, Member, create, member
from access_worlds import permission_set
from conftest import TenantFixture

STAGES = ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]
ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "sharing_model": "private",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Industry", "type": "picklist", "values": ["Retail", "Energy", "Media"]},
    ],
}
DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "plural_label": "Deals",
    "fields": [
        {"api_name": "Name", "type": "text", "label": "Deal name", "required": True},
        {"api_name": "Amount", "type": "currency", "label": "Amount"},
        {"api_name": "Stage", "type": "picklist", "label": "Stage", "values": STAGES},
        {"api_name": "CloseDate", "type": "date", "label": "Close date"},
        {"api_name": "Account", "type": "lookup", "label": "Account", "target": "Account"},
        {"api_name": "Margin", "type": "percent", "label": "Margin"},
        {"api_name": "Notes", "type": "long_text", "label": "Notes"},
    ],
}
RIGHTS = {"read": True, "create": True, "edit": True}


@dataclasses.dataclass
class ListWorld:
    tenant: TenantFixture
    rep: Member
    rep_email: str
    password: str
    acme: str
    globex: str
    deals: list[dict[str, Any]]


def deal_values(number: int, acme: str, globex: str) -> dict[str, Any]:
    return {
        "Name": f"Deal {number:03d}",
        "Amount": 1000 * number,
        "Stage": STAGES[number % len(STAGES)],
        "CloseDate": (dt.date(2027, 1, 1) + dt.timedelta(days=number)).isoformat(),
        "Account": acme if number % 2 else globex,
        "Margin": 12.5,
        "Notes": f"Notes about deal {number}",
    }


def build_list_world(tenant: TenantFixture, deals: int = 120) -> ListWorld:
    for definition in (ACCOUNT, DEAL):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)
    permission_set(
        tenant,
        "sales",
        objects={"Account": RIGHTS, "Deal": RIGHTS},
        fields={"Deal.Margin": {"read": False}},
    )
    rep = member(tenant, "rep", permission_sets=["sales"])
    acme = create(tenant, "Account", token=rep.token, Name="Acme Corporation", Industry="Retail")
    globex = create(tenant, "Account", Name="Globex Ltd", Industry="Energy")
    values = [deal_values(number, acme, globex) for number in range(1, deals + 1)]
    created: list[dict[str, Any]] = []
    for start in range(0, len(values), 200):
        response = tenant.api(
            "POST",
            "/api/v1/objects/Deal/bulk",
            json={"records": values[start : start + 200], "atomic": True},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        created += [result["record"] for result in response.get_json()["results"]]
    return ListWorld(tenant, rep, f"rep@{tenant.slug}.test", PASSWORD, acme, globex, created)
