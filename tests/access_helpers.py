"""Helpers for access tests: users with roles, permission sets and their own tokens."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from conftest import TenantFixture

from trellis.access.recompute import run_pending
from trellis.identity.tokens import create_token

PASSWORD = "a long enough passphrase"


@dataclasses.dataclass
class Member:
    tenant: TenantFixture
    id: uuid.UUID
    token: str

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.tenant.api(method, path, token=self.token, **kwargs)

    def ids(self, api_name: str, **params: str) -> set[str]:
        response = self.api("GET", f"/api/v1/objects/{api_name}/records", query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return {row["id"] for row in response.get_json()["data"]}


def member(tenant: TenantFixture, name: str, **assignment: Any) -> Member:
    response = tenant.api(
        "POST",
        "/api/v1/users",
        json={"email": f"{name}@{tenant.slug}.test", "password": PASSWORD, **assignment},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    user_id = uuid.UUID(response.get_json()["id"])
    database = tenant.app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        token, _ = create_token(connection, tenant.actor, user_id=user_id, name="tests")
    return Member(tenant, user_id, token)


def create(tenant: TenantFixture, api_name: str, token: str | None = None, **values: Any) -> str:
    response = tenant.api("POST", f"/api/v1/objects/{api_name}/records", json=values, token=token)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def roles(tenant: TenantFixture, *chain: tuple[str, str | None]) -> None:
    for name, parent in chain:
        response = tenant.api(
            "POST", "/api/v1/meta/roles", json={"api_name": name, "label": name, "parent": parent}
        )
        assert response.status_code == 201, response.get_data(as_text=True)


def sharing(tenant: TenantFixture, api_name: str, **settings: Any) -> dict[str, Any]:
    response = tenant.api("PUT", f"/api/v1/meta/sharing-rules/{api_name}", json=settings)
    assert response.status_code == 200, response.get_data(as_text=True)
    state = tenant.app.extensions["trellis"]
    run_pending(state.database, state.metadata_cache)
    return response.get_json()


def recompute(tenant: TenantFixture) -> int:
    state = tenant.app.extensions["trellis"]
    return run_pending(state.database, state.metadata_cache)
