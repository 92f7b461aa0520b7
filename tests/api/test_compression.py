"""Large answers are compressed as the client accepts; streamed CSV files are not."""

from __future__ import annotations

import gzip
import json

import brotli
from conftest import TenantFixture
from factories import SALES_ACCOUNT


def test_large_json_is_compressed_as_accepted(tenant: TenantFixture) -> None:
    plain = tenant.api("GET", "/api/v1/openapi.json")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    document = plain.get_json()
    zipped = tenant.api("GET", "/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    body = zipped.get_data()
    assert len(body) < len(plain.get_data()) / 3
    assert json.loads(gzip.decompress(body)) == document
    squeezed = tenant.api("GET", "/api/v1/openapi.json", headers={"Accept-Encoding": "br, gzip"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert json.loads(brotli.decompress(squeezed.get_data())) == document
    refused = tenant.api(
        "GET", "/api/v1/openapi.json", headers={"Accept-Encoding": "gzip;q=0, identity"}
    )
    assert "Content-Encoding" not in refused.headers


def test_small_answers_are_sent_as_they_are(tenant: TenantFixture) -> None:
    small = tenant.api("GET", "/api/v1/me", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "Content-Encoding" not in small.headers
    assert small.get_json()["tenant"]["slug"] == tenant.slug


NOTES = {
    "api_name": "Note",
    "label": "Note",
    "fields": [{"api_name": f"Part{n}", "type": "text"} for n in range(6)],
}


def test_a_compressed_records_etag_still_matches(tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=NOTES).status_code == 201
    values = {f"Part{n}": "A" * 200 for n in range(6)}  # large enough to be compressed
    created = tenant.api("POST", "/api/v1/objects/Note/records", json=values)
    record_id = created.get_json()["id"]
    path = f"/api/v1/objects/Note/records/{record_id}"
    read = tenant.api("GET", path, headers={"Accept-Encoding": "gzip"})
    assert read.headers["Content-Encoding"] == "gzip"
    etag = read.headers["ETag"]
    assert etag == '"1:gzip"'
    unchanged = tenant.api("GET", path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert unchanged.status_code == 304
    changed = tenant.api(
        "PATCH",
        path,
        json={"Part0": "B" * 200},
        headers={"If-Match": etag, "Accept-Encoding": "gzip"},
    )
    assert changed.status_code == 200, changed.get_data()
    stale = tenant.api("PATCH", path, json={"Part0": "C"}, headers={"If-Match": etag})
    assert stale.status_code in {409, 412}
    assert tenant.api("GET", path).get_json()["Part0"] == "B" * 200


def test_csv_exports_stream_uncompressed(tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT).status_code == 201
    rows = [{"Name": f"Account {n:04} " + "x" * 40} for n in range(60)]
    bulk = tenant.api("POST", "/api/v1/objects/Account/bulk", json={"records": rows})
    assert bulk.status_code in {200, 201, 207}, bulk.get_json()
    export = tenant.api(
        "GET", "/api/v1/objects/Account/records.csv", headers={"Accept-Encoding": "gzip, br"}
    )
    assert export.status_code == 200 and export.is_streamed
    assert "Content-Encoding" not in export.headers
    text = export.get_data(as_text=True)
    assert text.count("Account 00") == 60
