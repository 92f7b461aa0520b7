"""A workspace for the formula editor's and the validation rules screens' tests: Account
(Name, Industry) and Deal (Name, Amount, Discount, a lookup to Account), with records,
and a Deal rule or two to list.

- Records by key: ``acme`` (Account "Acme Corporation", Industry "Manufacturing"),
  ``big`` (Deal "Big order", Amount 1500, on Acme), ``small`` (Deal "Small order",
  Amount 20, no account).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from access_helpers import create
from conftest import TenantFixture

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Industry", "type": "text"},
    ],
}
DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "plural_label": "Deals",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Amount", "type": "currency"},
        {"api_name": "Discount", "type": "percent"},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
    ],
}


@dataclasses.dataclass
class FormulaWorld:
    tenant: TenantFixture
    ids: dict[str, str]

    def deal(self) -> dict[str, Any]:
        response = self.tenant.api("GET", "/api/v1/meta/objects/Deal")
        assert response.status_code == 200
        return dict(response.get_json())

    def rules(self) -> list[dict[str, Any]]:
        return list(self.deal().get("validation_rules", []))

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        definition = {**DEAL, "validation_rules": rules}
        response = self.tenant.api("PUT", "/api/v1/meta/objects/Deal", json=definition)
        assert response.status_code == 200, response.get_data(as_text=True)


def build_formula_world(tenant: TenantFixture) -> FormulaWorld:
    for definition in (ACCOUNT, DEAL):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)
    acme = create(tenant, "Account", Name="Acme Corporation", Industry="Manufacturing")
    ids = {
        "acme": acme,
        "big": create(tenant, "Deal", Name="Big order", Amount=1500, Account=acme),
        "small": create(tenant, "Deal", Name="Small order", Amount=20),
    }
    return FormulaWorld(tenant, ids)
