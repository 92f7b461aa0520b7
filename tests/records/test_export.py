"""CSV export through the API: headers and cells in the shared format, the export right,
field-level security, sharing, a selection, and the stream read in keyset chunks."""

from __future__ import annotations

import csv
import io
import uuid

from access_helpers import create, member
from access_worlds import permission_set
from conftest import TenantFixture
from helpers import assert_envelope
from list_worlds import build_list_world

from trellis.access.gate import Access
from trellis.records.csv_format import value_from_cell
from trellis.records.export import Export, csv_lines, export_columns

URL = "/api/v1/objects/Deal/records.csv"


def table(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_an_export_has_an_id_column_the_labels_and_cells_that_read_back(
    tenant: TenantFixture,
) -> None:
    world = build_list_world(tenant, deals=3)
    response = tenant.api("GET", URL, query_string={"sort": "Name", "Stage__ne": "Closed Won"})
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="Deal-')
    header, *rows = table(response)
    assert header == [
        "Id",
        "Deal name",
        "Amount",
        "Stage",
        "Close date",
        "Account",
        "Margin",
        "Notes",
    ]
    # Deal 002 is Closed Won: the list's filter holds.
    assert rows == [
        [
            world.deals[0]["id"],
            "Deal 001",
            "1000",
            "Negotiation",
            "2027-01-02",
            "Acme Corporation",
            "12.5",
            "Notes about deal 1",
        ],
        [
            world.deals[2]["id"],
            "Deal 003",
            "3000",
            "Closed Lost",
            "2027-01-04",
            "Acme Corporation",
            "12.5",
            "Notes about deal 3",
        ],
    ]
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        schema = state.metadata_cache.get(connection, tenant.id)
    deal = schema.object("Deal")
    stored = world.deals[0]
    for name, cell in zip(["Name", "Amount", "Stage", "CloseDate"], rows[0][1:5], strict=True):
        assert value_from_cell(deal.field(name), cell) == stored[name]
    audit = tenant.api("GET", "/api/v1/audit", query_string={"action": "records.exported"})
    (entry,) = audit.get_json()["data"]
    assert entry["target_type"] == "Deal"
    assert entry["details"]["filters"]["Stage__ne"] == ["Closed Won"]


def test_fields_chooses_the_columns_and_an_unknown_one_is_a_400(tenant: TenantFixture) -> None:
    build_list_world(tenant, deals=2)
    header, *rows = table(tenant.api("GET", URL, query_string={"fields": "Amount,Name"}))
    assert header == ["Id", "Amount", "Deal name"]
    assert len(rows) == 2
    assert_envelope(tenant.api("GET", URL, query_string={"fields": "Nope"}), 400, "unknown_field")
    assert_envelope(tenant.api("GET", URL, query_string={"sort": "Nope"}), 400)
    assert_envelope(tenant.api("GET", URL, query_string={"ids": "not-an-id"}), 400)


def test_export_needs_the_right_and_leaves_out_what_the_reader_may_not_read(
    tenant: TenantFixture,
) -> None:
    world = build_list_world(tenant, deals=4)
    assert_envelope(world.rep.api("GET", URL), 403, "no_system_right")
    permission_set(tenant, "exporting", system=["api", "export"])
    exporter = member(tenant, "exporter", permission_sets=["sales", "exporting"])
    header, *rows = table(exporter.api("GET", URL, query_string={"sort": "Name"}))
    # Margin is hidden from sales by field-level security: no column, and not askable.
    assert header == ["Id", "Deal name", "Amount", "Stage", "Close date", "Account", "Notes"]
    assert_envelope(exporter.api("GET", URL, query_string={"fields": "Margin"}), 400)
    # Neither account is theirs (Account is private): the deals show the account's id.
    accounts = [row[5] for row in rows]
    assert accounts == [world.acme, world.globex, world.acme, world.globex]


def test_records_the_reader_may_not_see_are_not_exported(tenant: TenantFixture) -> None:
    world = build_list_world(tenant, deals=1)
    permission_set(tenant, "exporting", system=["api", "export"])
    exporter = member(tenant, "exporter", permission_sets=["sales", "exporting"])
    own = create(tenant, "Account", token=exporter.token, Name="Initech")
    rows = table(exporter.api("GET", "/api/v1/objects/Account/records.csv"))
    assert [row[:2] for row in rows] == [["Id", "Name"], [own, "Initech"]]
    assert world.acme not in str(rows)


def test_a_selection_exports_only_the_records_named(tenant: TenantFixture) -> None:
    world = build_list_world(tenant, deals=5)
    chosen = [world.deals[3]["id"], world.deals[1]["id"], str(uuid.uuid4())]
    rows = table(tenant.api("GET", URL, query_string={"ids": ",".join(chosen), "sort": "Name"}))
    assert [row[1] for row in rows[1:]] == ["Deal 002", "Deal 004"]


def test_the_export_reads_chunk_after_chunk_in_the_lists_order(tenant: TenantFixture) -> None:
    world = build_list_world(tenant, deals=7)
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        schema = state.metadata_cache.get(connection, tenant.id)
        access = Access.of(tenant.actor, schema)
        deal = schema.object("Deal")
        export = Export(deal, {"sort": ["-Amount"]}, export_columns(deal, schema, access, ["Name"]))
        pieces = list(csv_lines(connection, access, schema, export, chunk=3))
    # The header, then chunks of 3, 3 and 1 records: each chunk one keyset page.
    assert [piece.count("\r\n") for piece in pieces] == [1, 3, 3, 1]
    names = [row[1] for row in csv.reader(io.StringIO("".join(pieces)))][1:]
    assert names == [f"Deal {number:03d}" for number in range(7, 0, -1)]
    ids = [row[0] for row in csv.reader(io.StringIO("".join(pieces)))][1:]
    assert sorted(ids) == sorted(each["id"] for each in world.deals)


def test_the_openapi_document_describes_the_export(tenant: TenantFixture) -> None:
    build_list_world(tenant, deals=1)
    document = tenant.api("GET", "/api/v1/openapi.json").get_json()
    found = document["paths"]["/objects/Deal/records.csv"]["get"]
    assert found["operationId"] == "exportDealRecords"
    assert "text/csv" in found["responses"]["200"]["content"]
    names = {each["name"] for each in found["parameters"]}
    assert {"fields", "ids", "sort", "where", "Amount__gte"} <= names
    assert not names & {"limit", "cursor", "count"}
