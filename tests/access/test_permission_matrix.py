"""The permission matrix: every right, through every channel that can reach a record.

Rows are rights (object create/read/edit/delete, view all, modify all, field read and
edit, each org-wide default, the role hierarchy, owner and criteria sharing rules,
manual shares, groups); columns are channels (lists, counts, cursors, single reads,
``where=``, related lists, roll-ups, formula references, updates, deletes and bulk).
Each cell builds the right's world (tests/access_worlds.py) in a tenant of its own and
checks every user of it: those who hold the right are let through, those who lack it are
refused, and a refused write leaves the database row exactly as it was.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from access_helpers import Member
from access_worlds import DECOY, TARGET, WORLDS, Expect, World
from conftest import TenantFixture
from helpers import assert_envelope

Check = Callable[[World, Any], None]
DEALS = "/api/v1/objects/Deal/records"
STEPS = "/api/v1/objects/Step/records"
ACCOUNTS = "/api/v1/objects/Account/records"


def _get(who: Member, path: str, **params: str) -> Any:
    return who.api("GET", path, query_string=params)


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {row["id"] for row in response.get_json()["data"]}


def _row(database: Any, world: World, record_id: str) -> tuple[Any, ...]:
    with database.tenant(world.tenant.id) as connection:
        return tuple(
            connection.execute(
                sa.text("SELECT version, data, owner_id, deleted_at FROM records WHERE id = :id"),
                {"id": record_id},
            ).one()
        )


def _deal_count(database: Any, world: World) -> int:
    with database.tenant(world.tenant.id) as connection:
        return connection.execute(
            sa.text(
                "SELECT count(*) FROM records r JOIN meta_objects o ON o.id = r.object_id "
                "WHERE o.api_name = 'Deal'"
            )
        ).scalar_one()


def _refused(response: Any, status: int, code: str) -> None:
    assert_envelope(response, status, code)


# -- record access: reads --------------------------------------------------------------


def _listing(who: Member, expect: Expect, path: str = DEALS, **params: str) -> Any:
    """The list response, or None after checking that the object right is missing."""
    response = _get(who, path, **params)
    if not expect.lists:
        _refused(response, 403, "no_object_right")
        return None
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def check_list(world: World, database: Any) -> None:
    for label, (who, expect) in world.users.items():
        page = _listing(who, expect)
        if page is not None:
            assert {row["id"] for row in page["data"]} == world.visible(expect), label


def check_count(world: World, database: Any) -> None:
    for label, (who, expect) in world.users.items():
        for params in ({"count": "true"}, {"count": "true", "limit": "1"}):
            page = _listing(who, expect, **params)
            if page is not None:
                assert page["total"] == len(world.visible(expect)), (label, params)


def check_cursor(world: World, database: Any) -> None:
    for label, (who, expect) in world.users.items():
        page = _listing(who, expect, limit="1")
        if page is None:
            continue
        seen = [row["id"] for row in page["data"]]
        while page["next_cursor"]:
            page = _listing(who, expect, limit="1", cursor=page["next_cursor"])
            seen += [row["id"] for row in page["data"]]
        assert len(seen) == len(set(seen)) and set(seen) == world.visible(expect), label


def _read_status(expect: Expect, record: str) -> tuple[int, str]:
    if not expect.lists:
        return 403, "no_object_right"
    return (200, "") if expect.reads(record) else (404, "not_found")


def check_single_read(world: World, database: Any) -> None:
    for label, (who, expect) in world.users.items():
        for record in (TARGET, DECOY):
            response = _get(who, f"{DEALS}/{world.ids[record]}")
            status, code = _read_status(expect, record)
            if status == 200:
                assert response.status_code == 200, (label, record)
                assert response.get_json()["Name"] == record
            else:
                _refused(response, status, code)


def check_where(world: World, database: Any) -> None:
    for label, (who, expect) in world.users.items():
        page = _listing(who, expect, where="Amount >= 100")
        if page is not None:
            wanted = {world.target} if expect.reads(TARGET) else set()
            assert {row["id"] for row in page["data"]} == wanted, label
        # Through the lookup from an object everyone reads: the Deal is reached, or not;
        # to a user who may not read Deals at all, their fields are unknown.
        for record, where in ((TARGET, "Deal.Amount >= 100"), (DECOY, 'Deal.Name = "decoy deal"')):
            response = _get(who, STEPS, where=where)
            if not expect.lists:
                _refused(response, 400, "unknown_field")
                continue
            wanted = {world.ids[f"{record} step"]} if expect.reads(record) else set()
            assert _ids(response) == wanted, (label, where)


def check_related_list(world: World, database: Any) -> None:
    path = f"{ACCOUNTS}/{world.ids['account']}/related/Deal.Account"
    for label, (who, expect) in world.users.items():
        page = _listing(who, expect, path, count="true", limit="1")
        if page is None:
            continue
        seen = {row["id"] for row in page["data"]}
        while page["next_cursor"]:
            page = _listing(who, expect, path, limit="1", cursor=page["next_cursor"])
            seen |= {row["id"] for row in page["data"]}
        assert seen == world.visible(expect), label


def check_rollup(world: World, database: Any) -> None:
    """The account counts only the Deals the reader reads: on the record, and in filters
    and formulas over the roll-up."""
    account = world.ids["account"]
    for label, (who, expect) in world.users.items():
        counted = len(world.visible(expect))
        assert _get(who, f"{ACCOUNTS}/{account}").get_json()["DealCount"] == counted, label
        assert _ids(_get(who, ACCOUNTS, DealCount=str(counted))) == {account}, label
        assert _ids(_get(who, ACCOUNTS, where=f"DealCount = {counted}")) == {account}, label
        assert _ids(_get(who, ACCOUNTS, DealCount__gt=str(counted))) == set(), label


def check_formula(world: World, database: Any) -> None:
    """A step shows its Deal's name only to readers of the Deal: on the record, in a
    filter, in a sort's cursor."""
    for label, (who, expect) in world.users.items():
        for record in (TARGET, DECOY):
            step = world.ids[f"{record} step"]
            shown = record if expect.reads(record) else None
            assert _get(who, f"{STEPS}/{step}").get_json()["DealName"] == shown, (label, record)
            found = _ids(_get(who, STEPS, DealName=record))
            assert found == ({step} if shown else set()), (label, record)
        page = _get(who, STEPS, sort="DealName", limit="1").get_json()
        while page["next_cursor"]:
            carried = base64.urlsafe_b64decode(page["next_cursor"] + "==").decode()
            for record in (TARGET, DECOY):
                assert expect.reads(record) or record not in carried, (label, record)
            page = _get(who, STEPS, sort="DealName", limit="1", cursor=page["next_cursor"])
            page = page.get_json()


# -- record access: writes -------------------------------------------------------------


def _write_outcome(expect: Expect, operation: str) -> tuple[int, str]:
    """What an edit or delete of the target answers: the object right first, then
    whether the record is found, then whether it may be changed so."""
    if operation not in expect.rights:
        return 403, "no_object_right"
    if not expect.reads(TARGET):
        return 404, "not_found"
    if operation not in expect.access:
        return 403, "no_record_access"
    return 200, ""


def _write(world: World, database: Any, operation: str, send: Callable[..., Any]) -> None:
    """Each user tries ``operation`` on the target through ``send(who, label)``, which
    answers (status, code); a refusal must leave the row as it was, an allowed delete is
    undone for the next user."""
    for label, (who, expect) in world.users.items():
        before = _row(database, world, world.target)
        status, code = send(who, label)
        wanted = _write_outcome(expect, operation)
        assert (status, code) == wanted, label
        after = _row(database, world, world.target)
        if status != 200:
            assert after == before, f"{label}: a refused {operation} changed the row"
        elif operation == "edit":
            assert after[0] == before[0] + 1 and after[1]["Name"] == f"by {label}", label
        else:
            assert after[3] is not None, label
            restored = world.tenant.api("POST", f"{DEALS}/{world.target}/restore")
            assert restored.status_code == 200, restored.get_data(as_text=True)


def _answer(response: Any) -> tuple[int, str]:
    if response.status_code in (200, 201, 204):
        return 200, ""
    return response.status_code, assert_envelope(response, response.status_code)["code"]


def _bulk_answer(response: Any) -> tuple[int, str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()["results"][0]
    return (200, "") if result["ok"] else (result["status"], result["code"])


def check_update(world: World, database: Any) -> None:
    path = f"{DEALS}/{world.target}"
    _write(
        world,
        database,
        "edit",
        lambda who, label: _answer(who.api("PATCH", path, json={"Name": f"by {label}"})),
    )


def check_delete(world: World, database: Any) -> None:
    path = f"{DEALS}/{world.target}"
    _write(world, database, "delete", lambda who, label: _answer(who.api("DELETE", path)))


def _bulk(who: Member, operation: str, item: dict[str, Any]) -> Any:
    body = {"operation": operation, "records": [item]}
    return who.api("POST", "/api/v1/objects/Deal/bulk", json=body)


def check_bulk_update(world: World, database: Any) -> None:
    def send(who: Member, label: str) -> tuple[int, str]:
        return _bulk_answer(_bulk(who, "update", {"id": world.target, "Name": f"by {label}"}))

    _write(world, database, "edit", send)


def check_bulk_delete(world: World, database: Any) -> None:
    def send(who: Member, label: str) -> tuple[int, str]:
        return _bulk_answer(_bulk(who, "delete", {"id": world.target}))

    _write(world, database, "delete", send)


RECORD_CHECKS: dict[str, Check] = {
    "list": check_list,
    "count": check_count,
    "cursor": check_cursor,
    "single_read": check_single_read,
    "where": check_where,
    "related_list": check_related_list,
    "rollup": check_rollup,
    "formula": check_formula,
    "update": check_update,
    "delete": check_delete,
    "bulk_update": check_bulk_update,
    "bulk_delete": check_bulk_delete,
}


# -- object create ---------------------------------------------------------------------


def _creates(
    world: World, database: Any, send: Callable[[Member], tuple[int, str]], refusal: Callable
) -> None:
    """Each user creates one Deal through ``send``; ``refusal(label, expect)`` is the
    (status, code) they must get, or None where the create must succeed."""
    for label, (who, expect) in world.users.items():
        before = _deal_count(database, world)
        wanted = refusal(label, expect)
        answer = send(who)
        if wanted is None:
            assert answer == (200, ""), label
            assert _deal_count(database, world) == before + 1, label
        else:
            assert answer == wanted, label
            assert _deal_count(database, world) == before, f"{label}: a refused create wrote"


def _no_create(label: str, expect: Expect) -> tuple[int, str] | None:
    return None if "create" in expect.rights else (403, "no_object_right")


def check_create(world: World, database: Any) -> None:
    _creates(
        world,
        database,
        lambda who: _answer(who.api("POST", DEALS, json={"Name": "new"})),
        _no_create,
    )


def check_bulk_create(world: World, database: Any) -> None:
    """Without the create right the whole request is refused, before any item."""

    def send(who: Member) -> tuple[int, str]:
        response = _bulk(who, "create", {"Name": "new"})
        return _answer(response) if response.status_code != 200 else _bulk_answer(response)

    _creates(world, database, send, _no_create)


# -- field-level security --------------------------------------------------------------

HIDDEN = {"Deal": "Amount", "Step": "DealName", "Account": "DealCount"}


def _hides(label: str) -> bool:
    return label == "hidden"


def _shows(label: str, row: dict[str, Any], object_name: str) -> None:
    assert (HIDDEN[object_name] in row) != _hides(label), (label, object_name, row)


def field_list(world: World, database: Any) -> None:
    for label, (who, _) in world.users.items():
        for object_name in HIDDEN:
            rows = _get(who, f"/api/v1/objects/{object_name}/records").get_json()["data"]
            assert rows
            for row in rows:
                _shows(label, row, object_name)


def field_single_read(world: World, database: Any) -> None:
    ids = {
        "Deal": world.target,
        "Step": world.ids[f"{TARGET} step"],
        "Account": world.ids["account"],
    }
    for label, (who, _) in world.users.items():
        for object_name, record_id in ids.items():
            row = _get(who, f"/api/v1/objects/{object_name}/records/{record_id}").get_json()
            _shows(label, row, object_name)


def _unknown_or(label: str, response: Any, wanted: set[str]) -> None:
    """A hidden field is unknown to whoever cannot read it; others get ``wanted``."""
    if _hides(label):
        _refused(response, 400, "unknown_field")
    else:
        assert _ids(response) == wanted, label


def field_cursor(world: World, database: Any) -> None:
    for label, (who, _) in world.users.items():
        first = _get(who, DEALS, sort="Amount", limit="1")
        _unknown_or(label, first, {world.ids[DECOY]})
        if not _hides(label):
            cursor = first.get_json()["next_cursor"]
            _unknown_or(
                label, _get(who, DEALS, sort="Amount", limit="1", cursor=cursor), {world.target}
            )


def field_filter(world: World, database: Any) -> None:
    for label, (who, _) in world.users.items():
        _unknown_or(label, _get(who, DEALS, Amount__gte="100", count="true"), {world.target})
        _unknown_or(label, _get(who, DEALS, fields="Name,Amount"), {world.target, world.ids[DECOY]})


def field_where(world: World, database: Any) -> None:
    for label, (who, _) in world.users.items():
        _unknown_or(label, _get(who, DEALS, where="Amount >= 100"), {world.target})
        # Reaching the hidden field across the lookup reveals it just the same.
        steps = _get(who, STEPS, where="Deal.Amount >= 100")
        _unknown_or(label, steps, {world.ids[f"{TARGET} step"]})


def field_related_list(world: World, database: Any) -> None:
    path = f"{ACCOUNTS}/{world.ids['account']}/related/Deal.Account"
    for label, (who, _) in world.users.items():
        for row in _get(who, path).get_json()["data"]:
            _shows(label, row, "Deal")
        _unknown_or(label, _get(who, path, Amount__gt="1"), {world.target, world.ids[DECOY]})


def field_rollup(world: World, database: Any) -> None:
    account = world.ids["account"]
    for label, (who, _) in world.users.items():
        _unknown_or(label, _get(who, ACCOUNTS, DealCount="2"), {account})
        _unknown_or(label, _get(who, ACCOUNTS, where="DealCount = 2"), {account})


def field_formula(world: World, database: Any) -> None:
    step = world.ids[f"{TARGET} step"]
    for label, (who, _) in world.users.items():
        _unknown_or(label, _get(who, STEPS, DealName=TARGET), {step})
        _unknown_or(label, _get(who, STEPS, where=f'DealName = "{TARGET}"'), {step})


def field_update(world: World, database: Any) -> None:
    for label, (who, _) in world.users.items():
        response = who.api("PATCH", f"{DEALS}/{world.target}", json={"Name": f"by {label}"})
        assert response.status_code == 200, (label, response.get_json())
        _shows(label, response.get_json(), "Deal")


def field_bulk_update(world: World, database: Any) -> None:
    for label, (who, _) in world.users.items():
        response = _bulk(who, "update", {"id": world.target, "Name": f"by {label}"})
        result = response.get_json()["results"][0]
        assert result["ok"], (label, result)
        _shows(label, result["record"], "Deal")


def field_history(world: World, database: Any) -> None:
    """A record's history does not show changes of a field its reader cannot read."""
    changed = world.tenant.api("PATCH", f"{DEALS}/{world.target}", json={"Amount": 600})
    assert changed.status_code == 200
    for label, (who, _) in world.users.items():
        entries = _get(who, f"{DEALS}/{world.target}/history").get_json()["data"]
        named = {name for entry in entries for name in entry["changes"]}
        assert ("Amount" in named) != _hides(label), (label, entries)


FIELD_READ_CHECKS: dict[str, Check] = {
    "list": field_list,
    "single_read": field_single_read,
    "cursor": field_cursor,
    "filter": field_filter,
    "where": field_where,
    "related_list": field_related_list,
    "rollup": field_rollup,
    "formula": field_formula,
    "update": field_update,
    "bulk_update": field_bulk_update,
    "history": field_history,
}


def _may_edit_amount(label: str) -> bool:
    return label == "worker"


def _field_write(
    world: World, database: Any, send: Callable[[Member, int], tuple[int, str]]
) -> None:
    """Each user sets the target's Amount: only the worker may; a refusal changes
    nothing, and the other fields stay editable to all."""
    for amount, (label, (who, _)) in enumerate(world.users.items(), start=1000):
        before = _row(database, world, world.target)
        answer = send(who, amount)
        after = _row(database, world, world.target)
        if _may_edit_amount(label):
            assert answer == (200, "") and after[1]["Amount"] == amount, label
        else:
            assert answer == (403, "field_not_editable"), label
            assert after == before, f"{label}: a refused edit changed the row"
        response = who.api("PATCH", f"{DEALS}/{world.target}", json={"Name": f"by {label}"})
        assert response.status_code == 200, label


def field_edit_update(world: World, database: Any) -> None:
    path = f"{DEALS}/{world.target}"
    _field_write(
        world,
        database,
        lambda who, amount: _answer(who.api("PATCH", path, json={"Amount": amount})),
    )


def field_edit_bulk_update(world: World, database: Any) -> None:
    _field_write(
        world,
        database,
        lambda who, amount: _bulk_answer(
            _bulk(who, "update", {"id": world.target, "Amount": amount})
        ),
    )


def _amount_refusal(label: str, expect: Expect) -> tuple[int, str] | None:
    return None if _may_edit_amount(label) else (403, "field_not_editable")


def field_edit_create(world: World, database: Any) -> None:
    _creates(
        world,
        database,
        lambda who: _answer(who.api("POST", DEALS, json={"Name": "new", "Amount": 1})),
        _amount_refusal,
    )
    _creates(
        world,
        database,
        lambda who: _answer(who.api("POST", DEALS, json={"Name": "new"})),
        lambda *_: None,
    )


def field_edit_bulk_create(world: World, database: Any) -> None:
    _creates(
        world,
        database,
        lambda who: _bulk_answer(_bulk(who, "create", {"Name": "new", "Amount": 1})),
        _amount_refusal,
    )


FIELD_EDIT_CHECKS: dict[str, Check] = {
    "update": field_edit_update,
    "bulk_update": field_edit_bulk_update,
    "create": field_edit_create,
    "bulk_create": field_edit_bulk_create,
}
CREATE_CHECKS: dict[str, Check] = {"create": check_create, "bulk_create": check_bulk_create}

# -- the matrix ------------------------------------------------------------------------

EVERY_CHANNEL = tuple(RECORD_CHECKS)
MATRIX: dict[str, tuple[dict[str, Check], tuple[str, ...]]] = {
    "object_create": (CREATE_CHECKS, tuple(CREATE_CHECKS)),
    "object_read": (RECORD_CHECKS, EVERY_CHANNEL),
    "object_edit": (RECORD_CHECKS, ("update", "bulk_update")),
    "object_delete": (RECORD_CHECKS, ("delete", "bulk_delete")),
    "view_all": (RECORD_CHECKS, EVERY_CHANNEL),
    "modify_all": (RECORD_CHECKS, EVERY_CHANNEL),
    "field_read": (FIELD_READ_CHECKS, tuple(FIELD_READ_CHECKS)),
    "field_edit": (FIELD_EDIT_CHECKS, tuple(FIELD_EDIT_CHECKS)),
    **dict.fromkeys(
        (
            "owd_private",
            "owd_read",
            "owd_read_write",
            "owd_controlled_by_parent",
            "hierarchy",
            "owner_rule",
            "criteria_rule",
            "manual_share",
            "group",
        ),
        (RECORD_CHECKS, EVERY_CHANNEL),
    ),
}
CELLS = [
    pytest.param(right, channel, id=f"{right}-{channel}")
    for right, (_, channels) in MATRIX.items()
    for channel in channels
]


def test_every_right_has_a_world() -> None:
    assert set(MATRIX) == set(WORLDS)


@pytest.mark.parametrize(("right", "channel"), CELLS)
def test_permission_matrix(tenant: TenantFixture, database: Any, right: str, channel: str) -> None:
    world = WORLDS[right](tenant)
    checks, _ = MATRIX[right]
    checks[channel](world, database)
