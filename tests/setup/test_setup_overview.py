"""Setup's entrance: the app shell's Setup link and the overview, shown to users who hold
a right Setup serves and refused to everyone else."""

from __future__ import annotations

from typing import Any

from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}


def test_an_administrator_opens_setup_from_the_shell(client: Any, tenant: TenantFixture) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    home = client.get("/", headers=HTML).get_data(as_text=True)
    assert 'href="/setup/"' in home
    overview = client.get("/setup/", headers=HTML)
    assert overview.status_code == 200
    html = overview.get_data(as_text=True)
    assert 'aria-label="Setup"' in html and "<h1>Setup</h1>" in html


def test_a_user_without_setup_rights_sees_no_link_and_is_refused(
    client: Any, tenant: TenantFixture
) -> None:
    permission_set(tenant, "worker", all_objects={"read": True})
    member(tenant, "worker", permission_sets=["worker"])
    sign_in(client, tenant, f"worker@{tenant.slug}.test", PASSWORD)
    home = client.get("/", headers=HTML).get_data(as_text=True)
    assert 'href="/setup/"' not in home
    refused = client.get("/setup/", headers=HTML)
    assert refused.status_code == 403
    assert "Setup is for administrators." in refused.get_data(as_text=True)


def test_a_user_with_one_setup_right_may_open_setup(client: Any, tenant: TenantFixture) -> None:
    permission_set(tenant, "auditor", all_objects={"read": True}, system=["view_audit"])
    member(tenant, "auditor", permission_sets=["auditor"])
    sign_in(client, tenant, f"auditor@{tenant.slug}.test", PASSWORD)
    assert 'href="/setup/"' in client.get("/", headers=HTML).get_data(as_text=True)
    assert client.get("/setup/", headers=HTML).status_code == 200
