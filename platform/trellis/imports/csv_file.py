"""Reading an uploaded CSV file: UTF-8 text (a byte-order mark is dropped), a header
row of distinct column names, then data rows. A file that is not such a file is refused
whole (422), and one larger than the import limit with 413, before anything is stored.
"""

from __future__ import annotations

import csv
import dataclasses
import io

from trellis.errors import TrellisError, ValidationError

#: The largest file an import accepts. The file is kept in the job's row until the job
#: is deleted, so a limit well under the request body limit keeps jobs cheap to store.
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_COLUMNS = 500


class FileTooLarge(TrellisError):
    status, code = 413, "file_too_large"


@dataclasses.dataclass(frozen=True)
class CsvFile:
    """A parsed file: its column names and its data rows (blank lines left out)."""

    headers: list[str]
    rows: list[list[str]]


def _text(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge(
            f"The file is {len(data):,} bytes; an import takes at most {MAX_FILE_BYTES:,}.",
            fields={"file": "Too large."},
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(
            f"The file is not UTF-8 text (byte {error.start + 1}); save it as CSV UTF-8.",
            code="bad_file",
            fields={"file": "Not UTF-8 text."},
        ) from None


def parse_csv(data: bytes) -> CsvFile:
    """The header and rows of ``data``, or a 413/422 error saying what is wrong."""
    text = _text(data)
    if "\x00" in text:
        raise ValidationError(
            "The file holds NUL characters: it is not a CSV file.",
            code="bad_file",
            fields={"file": "Not a CSV file."},
        )
    try:
        lines = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]
    except csv.Error as error:
        raise ValidationError(
            f"The file is not valid CSV: {error}.", code="bad_file", fields={"file": str(error)}
        ) from None
    if not lines:
        raise ValidationError(
            "The file is empty: it needs a header row of column names.",
            code="bad_file",
            fields={"file": "Empty."},
        )
    headers = [name.strip() for name in lines[0]]
    _check_headers(headers)
    return CsvFile(headers, lines[1:])


def _check_headers(headers: list[str]) -> None:
    problems = []
    if len(headers) > MAX_COLUMNS:
        problems.append(f"it has {len(headers)} columns; at most {MAX_COLUMNS}")
    if any(not name for name in headers):
        problems.append("a column of the header row has no name")
    seen: set[str] = set()
    for name in headers:
        if name and name.casefold() in seen:
            problems.append(f"two columns are named {name!r}")
        seen.add(name.casefold())
    if problems:
        raise ValidationError(
            f"The header row is not usable: {'; '.join(problems)}.",
            code="bad_file",
            fields={"file": problems},
        )


def write_csv(headers: list[str], rows: list[list[str]]) -> str:
    """CSV text of ``headers`` and ``rows`` (for the file of rejected rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()
