"""The password policy: minimum length, not one repeated character, not a common one;
applied wherever a password is set."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from flask import Flask

from trellis.errors import ValidationError
from trellis.identity.passwords import DEFAULT_MIN_LENGTH, min_length, password_problem
from trellis.identity.tables import users
from trellis.identity.users import create_user, set_password


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", "at least 12"),
        ("a" * 40, "repeated"),
        ("qwerty123456", "common"),
        ("QWERTY123456", "common"),  # the list is matched whatever the case
        ("1q2w3e4r5t6y", "common"),
    ],
)
def test_refused_passwords(password: str, problem: str) -> None:
    assert problem in (password_problem(password, 12) or "")


def test_accepted_passwords_and_the_length_setting(app: Flask) -> None:
    assert password_problem("correct horse battery", 12) is None
    assert password_problem("exactly12chr", 12) is None
    assert password_problem("exactly12chr", 13) is not None
    assert DEFAULT_MIN_LENGTH == 12
    with app.app_context():
        assert min_length() == app.extensions["trellis"].config.password_min_length == 12


def test_create_user_refuses_a_weak_password_and_writes_nothing(
    app: Flask, tenant: TenantFixture
) -> None:
    database = app.extensions["trellis"].database
    with app.app_context(), database.tenant(tenant.id) as connection:
        with pytest.raises(ValidationError) as raised:
            create_user(connection, tenant.actor, email="weak@x.test", password="password1234")
        assert set(raised.value.fields) == {"password"}
        count = connection.execute(
            sa.select(sa.func.count()).select_from(users).where(users.c.email == "weak@x.test")
        ).scalar_one()
        assert count == 0


def test_set_password_refuses_a_weak_password_and_keeps_the_old_one(
    app: Flask, tenant: TenantFixture
) -> None:
    database = app.extensions["trellis"].database
    with app.app_context(), database.tenant(tenant.id) as connection:
        before = connection.execute(
            sa.select(users.c.password_hash).where(users.c.id == tenant.admin_id)
        ).scalar_one()
        for weak in ("zzzzzzzzzzzzzz", "too short", "1qaz2wsx3edc4rfv"):
            with pytest.raises(ValidationError) as raised:
                set_password(connection, tenant.actor, tenant.admin_email, weak)
            assert set(raised.value.fields) == {"password"}, weak
        after = connection.execute(
            sa.select(users.c.password_hash).where(users.c.id == tenant.admin_id)
        ).scalar_one()
        assert after == before
