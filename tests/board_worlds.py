"""A workspace for the board's tests: the list screen's deals (trellis list_worlds) with
a shared board "Pipeline" grouped by Stage, cards showing Amount, Close date, Account
and Margin (which the rep may not read), each column adding up Amount; and a
validation rule that refuses winning a deal under 3,000.
"""

from __future__ import annotations

from typing import Any

from conftest import TenantFixture
from list_worlds import DEAL, ListWorld, build_list_world

VIEWS = "/api/v1/objects/Deal/list-views"
PIPELINE = {
    "api_name": "pipeline",
    "label": "Pipeline",
    "visibility": "shared",
    "columns": ["Name", "Amount", "Stage"],
    "sort": "Name",
    "board": {
        "group_by": "Stage",
        "card_fields": ["Amount", "CloseDate", "Account", "Margin"],
        "summary_field": "Amount",
    },
}
SMALL_WINS = {
    "name": "BigEnoughToWin",
    "condition": 'AND(ISPICKVAL(Stage, "Closed Won"), Amount < 3000)',
    "message": "Only deals of 3,000 or more can be won.",
    "error_field": "Stage",
}


def build_board_world(tenant: TenantFixture, deals: int = 8, **board: Any) -> ListWorld:
    world = build_list_world(tenant, deals=deals)
    view = {**PIPELINE, "board": {**PIPELINE["board"], **board}}
    response = tenant.api("POST", VIEWS, json=view)
    assert response.status_code == 201, response.get_data(as_text=True)
    return world


def refuse_small_wins(tenant: TenantFixture) -> None:
    definition = {**DEAL, "validation_rules": [SMALL_WINS]}
    response = tenant.api("PUT", "/api/v1/meta/objects/Deal", json=definition)
    assert response.status_code == 200, response.get_data(as_text=True)
