"""Mass actions through the records service: each record saved or refused on its own,
with the reason, and rules, rights, history and the audit trail holding for each."""

from __future__ import annotations

import uuid

import pytest
from conftest import TenantFixture
from mass_worlds import RULE_MESSAGE, build_mass_world
from screen_worlds import reading

from trellis.errors import BadRequest
from trellis.records.batch import MAX_MASS, mass_action, record_ids
from trellis.records.service import RecordService


def run(world, action: str, ids: list[str], **values):  # type: ignore[no-untyped-def]
    with reading(world.tenant, world.rep_email) as seen:
        service = RecordService(
            seen.connection, seen.actor, seen.schema, seen.schema.object("Deal"), access=seen.access
        )
        return mass_action(service, action, [uuid.UUID(each) for each in ids], values)


def test_a_mass_edit_saves_each_record_it_may_and_says_why_the_others_were_refused(
    tenant: TenantFixture,
) -> None:
    world = build_mass_world(tenant, deals=6, undated=(2, 5))
    ids = [*world.deals.values(), world.admin_deal]
    summary = run(world, "edit", ids, Stage="Closed Won")
    assert len(summary.succeeded) == 4
    refused = {each.name: each.reason for each in summary.refused}
    assert refused == {
        "Deal 02": RULE_MESSAGE,
        "Deal 05": RULE_MESSAGE,
        "Admin deal": "You may not edit this Deal record.",
    }
    assert world.read(world.deals["Deal 01"])["Stage"] == "Closed Won"
    # A refused record is left exactly as it was.
    assert world.read(world.deals["Deal 02"])["Stage"] == "Prospecting"
    assert world.read(world.admin_deal)["version"] == 1
    history = world.rep.api("GET", f"/api/v1/objects/Deal/records/{world.deals['Deal 01']}/history")
    assert history.get_json()["data"][0]["changes"] == {"Stage": ["Prospecting", "Closed Won"]}


def test_a_mass_edit_of_a_field_the_user_may_not_edit_is_refused_for_each(
    tenant: TenantFixture,
) -> None:
    world = build_mass_world(tenant, deals=2)
    summary = run(world, "edit", list(world.deals.values()), Region="South")
    assert not summary.succeeded
    assert all("Region" in each.reason or "edit" in each.reason for each in summary.refused)


def test_a_mass_delete_moves_the_allowed_records_to_the_recycle_bin_and_is_audited(
    tenant: TenantFixture,
) -> None:
    world = build_mass_world(tenant, deals=3)
    ids = [world.deals["Deal 01"], world.deals["Deal 03"], world.admin_deal]
    summary = run(world, "delete", ids)
    assert [each.name for each in summary.succeeded] == ["Deal 01", "Deal 03"]
    assert [each.name for each in summary.refused] == ["Admin deal"]
    left = world.rep.ids("Deal")
    assert left == {world.deals["Deal 02"], world.admin_deal}
    audit = tenant.api("GET", "/api/v1/audit", query_string={"action": "records.bulk_deleted"})
    (entry,) = audit.get_json()["data"]
    assert sorted(entry["details"]["ids"]) == sorted(ids[:2])


def test_a_mass_change_of_owner_gives_the_records_away(tenant: TenantFixture) -> None:
    world = build_mass_world(tenant, deals=2)
    summary = run(
        world, "owner", [*world.deals.values(), world.admin_deal], owner_id=str(world.colleague.id)
    )
    assert len(summary.succeeded) == 2 and [each.name for each in summary.refused] == ["Admin deal"]
    assert world.read(world.deals["Deal 01"])["owner_id"] == str(world.colleague.id)
    assert world.read(world.admin_deal)["owner_id"] == str(tenant.admin_id)
    # Given away under "read" sharing: the rep may no longer edit them.
    again = run(world, "edit", list(world.deals.values()), Amount=1)
    assert not again.succeeded


def test_a_record_the_user_may_not_see_is_refused_without_its_name(tenant: TenantFixture) -> None:
    world = build_mass_world(tenant, deals=1)
    unknown = str(uuid.uuid4())
    summary = run(world, "delete", [unknown])
    (refused,) = summary.refused
    assert refused.name == unknown and refused.reason == f"No Deal record {unknown}."


def test_ids_are_checked_and_limited() -> None:
    with pytest.raises(BadRequest, match="Select at least one"):
        record_ids([])
    with pytest.raises(BadRequest):
        record_ids(["not an id"])
    with pytest.raises(BadRequest, match="At most"):
        record_ids([str(uuid.uuid4()) for _ in range(MAX_MASS + 1)])
    one = str(uuid.uuid4())
    assert record_ids([one, one.upper()]) == [uuid.UUID(one)]
