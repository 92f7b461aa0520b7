"""Setup → Users: invite by one-time link (it works once and expires), password resets
that end sessions, deactivation and reactivation, assignments, and who may do it."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from helpers import csrf_token
from screen_worlds import sign_in

from trellis.identity.tables import sign_in_links, user_sessions, users

HTML = {"Accept": "text/html"}
NEW_PASSWORD = "violet harbour lantern"
LINK = re.compile(r"http://[^\"<\s]+/invite/([0-9a-f]{32}\.[A-Za-z0-9_-]{43})")


def post(client: Any, path: str, data: dict[str, Any] | None = None) -> Any:
    token = csrf_token(client.get("/", headers=HTML).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, headers=HTML)


def invite(client: Any, email: str, **fields: Any) -> tuple[str, str]:
    """Invite a user through the form; their id and the one-time link's token."""
    response = post(client, "/setup/users/new", {"email": email, **fields})
    html = response.get_data(as_text=True)
    assert response.status_code == 201, html
    match = LINK.search(html)
    assert match is not None, html
    user_id = re.search(r"/setup/users/([0-9a-f-]{36})", html)
    assert user_id is not None
    return user_id.group(1), match.group(1)


def accept(app: Any, token: str, password: str = NEW_PASSWORD, confirm: str | None = None) -> Any:
    """Open the link in a fresh browser and set the password; the response and client."""
    browser = app.test_client()
    page = browser.get(f"/invite/{token}")
    if page.status_code != 200:
        return page, browser
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "password": password,
        "confirm": password if confirm is None else confirm,
    }
    return browser.post(f"/invite/{token}", data=data), browser


def audit(tenant: TenantFixture, action: str) -> list[dict[str, Any]]:
    response = tenant.api("GET", "/api/v1/audit", query_string={"action": action})
    assert response.status_code == 200
    return list(response.get_json()["data"])


def test_an_invited_user_sets_a_password_through_the_link_and_is_signed_in(
    client: Any, tenant: TenantFixture
) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    email = f"newcomer@{tenant.slug}.test"
    user_id, token = invite(client, email, display_name="New Comer", permission_sets=["read_only"])
    # Stored: the user without a password, the link as a digest only.
    user = tenant.api("GET", f"/api/v1/users/{user_id}").get_json()
    assert user["permission_sets"] == ["read_only"] and user["active"] is True
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        rows = connection.execute(sa.select(sign_in_links)).all()
    assert len(rows) == 1 and token.encode() not in rows[0].secret_hash
    listed = client.get("/setup/users", headers=HTML).get_data(as_text=True)
    assert email in listed and "Invited" in listed

    # The password policy applies; a refused password keeps the link usable.
    weak, _ = accept(tenant.app, token, "short")
    assert weak.status_code == 422 and "Use at least" in weak.get_data(as_text=True)
    differ, _ = accept(tenant.app, token, NEW_PASSWORD, "something else entirely")
    assert differ.status_code == 422 and "differ" in differ.get_data(as_text=True)

    done, browser = accept(tenant.app, token)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    me = browser.get("/api/v1/me", headers={"Accept": "application/json"})
    assert me.status_code == 200 and me.get_json()["user"]["email"] == email
    # The link works once.
    again, _ = accept(tenant.app, token)
    assert again.status_code == 404
    assert "expired or was already used" in again.get_data(as_text=True)
    # And the password is theirs now.
    other = tenant.app.test_client()
    sign_in(other, tenant, email, NEW_PASSWORD)
    invited = audit(tenant, "user.invited")
    assert invited[0]["target_id"] == user_id and invited[0]["details"]["via"] == "browser"
    used = audit(tenant, "user.link_used")
    assert used[0]["actor_email"] == email and used[0]["details"]["purpose"] == "invite"


def test_a_link_expires_and_an_unknown_one_says_the_same(
    client: Any, tenant: TenantFixture
) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    _, token = invite(client, f"late@{tenant.slug}.test")
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        connection.execute(
            sign_in_links.update().values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            )
        )
    expired, _ = accept(tenant.app, token)
    assert expired.status_code == 404
    forged = tenant.app.test_client().get(f"/invite/{tenant.id.hex}.{'x' * 43}")
    assert forged.status_code == 404
    assert forged.get_data(as_text=True).count("expired or was already used") == 1
    assert tenant.app.test_client().get("/invite/nonsense").status_code == 404


def test_a_bad_invitation_shows_field_errors_and_creates_nobody(
    client: Any, tenant: TenantFixture
) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    before = len(tenant.api("GET", "/api/v1/users").get_json()["data"])
    bad = post(client, "/setup/users/new", {"email": "not an email"})
    assert bad.status_code == 422
    assert "Enter a valid email address." in bad.get_data(as_text=True)
    taken = post(client, "/setup/users/new", {"email": tenant.admin_email})
    assert taken.status_code == 422 and "Already in use." in taken.get_data(as_text=True)
    unknown = post(
        client, "/setup/users/new", {"email": f"x@{tenant.slug}.test", "role": "nosuchrole"}
    )
    assert unknown.status_code == 422 and "No role" in unknown.get_data(as_text=True)
    assert len(tenant.api("GET", "/api/v1/users").get_json()["data"]) == before


def test_a_reset_ends_sessions_and_the_old_password_and_mails_the_link(
    client: Any, tenant: TenantFixture
) -> None:
    worker = member(tenant, "worker")
    worker_email = f"worker@{tenant.slug}.test"
    theirs = tenant.app.test_client()
    sign_in(theirs, tenant, worker_email, PASSWORD)
    assert theirs.get("/api/v1/me").status_code == 200
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    confirm = client.get(f"/setup/users/{worker.id}/reset", headers=HTML)
    assert "sign them out of 1 browser session" in confirm.get_data(as_text=True)
    response = post(client, f"/setup/users/{worker.id}/reset")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "We also emailed the link" in html
    token = LINK.search(html).group(1)  # type: ignore[union-attr]
    # Their session is over, and the old password no longer signs in.
    assert theirs.get("/api/v1/me").status_code == 401
    login = tenant.app.test_client()
    page = login.get("/login").get_data(as_text=True)
    refused = login.post(
        "/login",
        data={
            "csrf_token": csrf_token(page),
            "tenant": tenant.slug,
            "email": worker_email,
            "password": PASSWORD,
        },
    )
    assert refused.status_code == 401
    # The mail backend (file, in tests) holds the same link.
    folder = Path(tenant.app.extensions["trellis"].config.instance_path) / "mail"
    bodies = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in folder.glob("*.eml")
    ]
    assert any(
        message["To"] == worker_email and token in message.get_content()  # type: ignore[union-attr]
        for message in bodies
    )
    done, _ = accept(tenant.app, token)
    assert done.status_code == 302
    reset = audit(tenant, "user.password_reset")
    assert reset[0]["target_id"] == str(worker.id) and reset[0]["details"]["link"] is True


def test_deactivation_ends_access_and_reactivation_restores_it(
    client: Any, tenant: TenantFixture
) -> None:
    worker = member(tenant, "worker")
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    confirm = client.get(f"/setup/users/{worker.id}/deactivate", headers=HTML)
    assert "revoke 1 API token" in confirm.get_data(as_text=True)
    done = post(client, f"/setup/users/{worker.id}/deactivate")
    assert done.status_code == 303
    assert worker.api("GET", "/api/v1/me").status_code == 401
    page = client.get(f"/setup/users/{worker.id}", headers=HTML).get_data(as_text=True)
    assert "Deactivated worker@" in page and "Reactivate" in page
    assert audit(tenant, "user.deactivated")[0]["details"]["tokens"] == 1
    # A reset link cannot be made for an inactive user.
    refused = post(client, f"/setup/users/{worker.id}/reset")
    assert refused.status_code == 409 and "reactivate them first" in refused.get_data(as_text=True)
    assert post(client, f"/setup/users/{worker.id}/reactivate").status_code == 303
    sign_in(tenant.app.test_client(), tenant, f"worker@{tenant.slug}.test", PASSWORD)
    assert audit(tenant, "user.reactivated")[0]["target_id"] == str(worker.id)


def test_an_administrator_cannot_deactivate_themselves(client: Any, tenant: TenantFixture) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    page = client.get(f"/setup/users/{tenant.admin_id}", headers=HTML).get_data(as_text=True)
    assert "This is your account" in page
    refused = post(client, f"/setup/users/{tenant.admin_id}/deactivate")
    assert refused.status_code == 409
    assert "You cannot deactivate your own account." in refused.get_data(as_text=True)
    assert tenant.api("GET", "/api/v1/me").status_code == 200
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(user_sessions)).scalar()


def test_role_and_permission_sets_are_assigned_through_the_form(
    client: Any, tenant: TenantFixture
) -> None:
    tenant.api("POST", "/api/v1/meta/roles", json={"api_name": "sales", "label": "Sales"})
    worker = member(tenant, "worker")
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    saved = post(
        client,
        f"/setup/users/{worker.id}",
        {"role": "sales", "permission_sets": ["read_only", "standard_user"]},
    )
    assert saved.status_code == 303
    user = tenant.api("GET", f"/api/v1/users/{worker.id}").get_json()
    assert user["role"] == "sales"
    assert user["permission_sets"] == ["read_only", "standard_user"]
    changed = audit(tenant, "user.access_changed")
    assert changed[0]["target_id"] == str(worker.id)


def test_the_list_searches_and_pages(client: Any, tenant: TenantFixture) -> None:
    for index in range(55):
        response = tenant.api(
            "POST", "/api/v1/users", json={"email": f"person{index:02}@{tenant.slug}.test"}
        )
        assert response.status_code == 201
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    first = client.get("/setup/users", headers=HTML).get_data(as_text=True)
    assert "Page 1 of 2" in first and "56 users" in first
    found = client.get("/setup/users?q=person07", headers=HTML).get_data(as_text=True)
    assert f"person07@{tenant.slug}.test" in found and "person08@" not in found
    assert "1 user matching" in found


def test_users_need_the_manage_users_right(client: Any, tenant: TenantFixture) -> None:
    permission_set(tenant, "builder", all_objects={"read": True}, system=["manage_metadata"])
    builder = member(tenant, "builder", permission_sets=["builder"])
    sign_in(client, tenant, f"builder@{tenant.slug}.test", PASSWORD)
    assert client.get("/setup/users", headers=HTML).status_code == 403
    assert client.get(f"/setup/users/{builder.id}", headers=HTML).status_code == 403
    refused = post(client, "/setup/users/new", {"email": f"sneaky@{tenant.slug}.test"})
    assert refused.status_code == 403
    assert tenant.api("GET", "/api/v1/users").get_json()["data"][-1]["email"] != "sneaky"


def test_a_user_with_two_factor_sign_in_still_gives_a_code_after_the_link(
    client: Any, tenant: TenantFixture
) -> None:
    worker = member(tenant, "worker")
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        connection.execute(
            users.update()
            .where(users.c.id == worker.id)
            .values(mfa_secret="JBSWY3DPEHPK3PXP", mfa_enabled_at=sa.func.now())
        )
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    html = post(client, f"/setup/users/{worker.id}/reset").get_data(as_text=True)
    token = LINK.search(html).group(1)  # type: ignore[union-attr]
    done, browser = accept(tenant.app, token)
    assert done.status_code == 302 and done.headers["Location"] == "/login/code"
    assert browser.get("/api/v1/me").status_code == 401
    assert audit(tenant, "user.link_used")[0]["target_id"] == str(worker.id)
    assert not [e for e in audit(tenant, "login.succeeded") if e["target_id"] == str(worker.id)]


def test_a_user_made_without_a_password_is_shown_as_unable_to_sign_in(
    client: Any, tenant: TenantFixture
) -> None:
    """A user the API made with no password and no link cannot sign in: the list and
    their page say so, and a reset link changes that."""
    made = tenant.api("POST", "/api/v1/users", json={"email": f"nopass@{tenant.slug}.test"})
    assert made.status_code == 201
    user_id = made.get_json()["id"]
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    listed = client.get("/setup/users?q=nopass", headers=HTML).get_data(as_text=True)
    assert "No password yet" in listed and ">Active<" not in listed
    page = client.get(f"/setup/users/{user_id}", headers=HTML).get_data(as_text=True)
    assert "cannot sign in" in page
    admin = client.get("/setup/users?q=" + tenant.admin_email, headers=HTML)
    assert ">Active<" in admin.get_data(as_text=True)
    reset = post(client, f"/setup/users/{user_id}/reset")
    assert reset.status_code in (200, 201, 303), reset.get_data(as_text=True)
    after = client.get("/setup/users?q=nopass", headers=HTML).get_data(as_text=True)
    assert "Reset pending" in after and "No password yet" not in after
