"""Reading an import file: encoding checks, CSV records with spreadsheet line numbers, and
matching the file's header to the fields of the import kind."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from salesops_core.importers.report import ImportFailed, RowError

RESAVE_HINT = 're-save it as UTF-8 (in Excel: "CSV UTF-8 (Comma delimited)") and import again'


@dataclass
class CsvTable:
    """A decoded CSV file: its header and data records with their line numbers."""

    file: str
    header: list[str]
    records: list[tuple[int, list[str]]]
    had_bom: bool


def read_csv(path: Path, *, display_name: str | None = None) -> CsvTable:
    """Decode and parse a CSV file (UTF-8, BOM optional; CRLF or LF; `,` `;` or tab).

    Raises ImportFailed for a missing, empty, header-only or non-UTF-8 file.
    """
    name = display_name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = f"cannot read the file: {exc.strerror}"
        raise ImportFailed([RowError(name, None, None, reason)]) from None
    text, had_bom = _decode(data, name)
    if not text.strip():
        raise ImportFailed([RowError(name, None, None, "the file is empty; expected a header row")])
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
        records = [
            (line, cells)
            for line, cells in enumerate(reader, start=2)
            if any(cell.strip() for cell in cells)
        ]
    except csv.Error as exc:
        raise ImportFailed(
            [RowError(name, reader.line_num, None, f"not valid CSV: {exc}")]
        ) from None
    if not records:
        raise ImportFailed(
            [RowError(name, 1, None, "no data rows: the file has a header row and nothing else")]
        )
    return CsvTable(name, header, records, had_bom)


def _decode(data: bytes, name: str) -> tuple[str, bool]:
    head = data[:4096]
    what = _not_csv(head, name)
    if what is not None:
        raise ImportFailed([RowError(name, None, None, f"is {what}")])
    # UTF-16 text is about half NUL bytes; a stray NUL in UTF-8 is a cell's problem
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(0) * 4 > len(head):
        raise ImportFailed(
            [RowError(name, None, None, f"the file is UTF-16 encoded; {RESAVE_HINT}")]
        )
    had_bom = data.startswith(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8-sig"), had_bom
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        reason = f"not UTF-8 (byte 0x{byte:02x} cannot be decoded); the file looks like "
        reason += "Latin-1/Windows-1252. " + RESAVE_HINT[0].upper() + RESAVE_HINT[1:]
        raise ImportFailed([RowError(name, line, None, reason)]) from None


_EXPORT_AS_CSV = "export it as CSV (UTF-8, with a header row) and import that"
# File signatures: (magic bytes, what the file is and what to do instead).
_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (or another Office file), "
     "not CSV: in Excel use File > Save As > CSV UTF-8"),
    (b"\x89PNG\r\n\x1a\n", f"a PNG image, not CSV: {_EXPORT_AS_CSV}"),
    (b"\xff\xd8\xff", f"a JPEG image, not CSV: {_EXPORT_AS_CSV}"),
    (b"GIF8", f"a GIF image, not CSV: {_EXPORT_AS_CSV}"),
    (b"%PDF-", f"a PDF document, not CSV: {_EXPORT_AS_CSV}"),
    (b"\x1f\x8b", "a gzip archive, not CSV: unpack it and import the CSV inside"),
)  # fmt: skip


# A JSON object or array opening (`{"`, `[{`, `[1`, ...); a CSV header `[Id],[Name]` is not one.
_JSON_START = re.compile(rb'(?:\xef\xbb\xbf)?\s*(?:\{\s*["}]|\[\s*[\[{"\]\d-])')


def _not_csv(head: bytes, name: str) -> str | None:
    """What a file that is no CSV text is, and what to do (None: it may be CSV)."""
    if head.startswith(b"PK\x03\x04"):
        if b"xl/" in head or name.lower().endswith((".xlsx", ".xlsm")):
            return "an Excel workbook, not CSV: in Excel use File > Save As > CSV UTF-8"
        if b"opendocument.spreadsheet" in head or name.lower().endswith(".ods"):
            return "an OpenDocument spreadsheet, not CSV: save it as CSV (UTF-8) and import that"
        return "a ZIP archive, not CSV: unpack it and import the CSV inside"
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    if _JSON_START.match(head):
        return (
            "JSON, not CSV: convert it to CSV with a header row (or send the records to the "
            "ingest API: POST /api/v1/deals, /leads or /activities)"
        )
    return None


@dataclass(frozen=True)
class ColumnPlan:
    """Which header column feeds each field, the column's name for error messages, and the
    columns no field reads (reported as ignored)."""

    index: dict[str, int]
    label: dict[str, str]
    ignored: tuple[str, ...] = ()

    def has(self, field: str) -> bool:
        """True when the file has a column for the field."""
        return field in self.index

    def rows(self, table: CsvTable) -> Iterator[tuple[int, dict[str, str]]]:
        """Each record as (line, {field: stripped text})."""
        pairs = list(self.index.items())
        for line, cells in table.records:
            width = len(cells)
            yield line, {f: (cells[i].strip() if i < width else "") for f, i in pairs}


def plan_columns(
    table: CsvTable,
    *,
    kind: str,
    fields: Sequence[str],
    required: Sequence[str],
    candidates: Mapping[str, Sequence[str]],
    overrides: Mapping[str, str],
) -> ColumnPlan:
    """Match header columns to fields: `--map` overrides first, then the format's candidate
    names (case-insensitive). Raises ImportFailed naming each missing or unknown column, and
    each column that no field reads but is a near miss of a field the file lacks (`ammount`
    for `amount`): a misspelled column must not leave a field empty in silence."""
    positions: dict[str, int] = {}
    for i, column in enumerate(table.header):
        positions.setdefault(column.lower(), i)
    found = ", ".join(c for c in table.header if c) or "(none)"
    errors: list[RowError] = []
    index: dict[str, int] = {}
    for field, column in overrides.items():
        if field not in fields:
            errors.append(
                RowError(
                    table.file,
                    None,
                    None,
                    f"--map {field}={column}: {field!r} is not a field of --kind {kind}; "
                    f"fields: {', '.join(fields)}",
                )
            )
        elif column.strip().lower() not in positions:
            errors.append(
                RowError(
                    table.file,
                    1,
                    column,
                    f"--map {field}={column}: the file has no column {column!r}; found: {found}",
                )
            )
        else:
            index[field] = positions[column.strip().lower()]
    for field in fields:
        if field in index or field in overrides:
            continue
        for name in candidates.get(field, ()):
            if name.lower() in positions:
                index[field] = positions[name.lower()]
                break
    missing = [f for f in fields if f not in index and f not in overrides]
    unread = [c for i, c in enumerate(table.header) if c and i not in index.values()]
    near = _near_misses(unread, {f: candidates.get(f, (f,)) for f in missing})
    for column, (field, name) in near.items():
        reason = (
            f"column `{column}` is not a {kind} field; did you mean `{name}`? "
            f"(rename it or pass --map {field}={column})"
        )
        errors.append(RowError(table.file, 1, None, reason))
    misspelled = {field for field, _ in near.values()}
    for field in required:
        if field not in index and field not in overrides and field not in misspelled:
            names = " or ".join(repr(n) for n in candidates.get(field, (field,)))
            errors.append(
                RowError(
                    table.file,
                    1,
                    field,
                    f"missing required column {names} for --kind {kind}; found: {found}. "
                    f"Map another column with --map {field}=<column>",
                )
            )
    if errors:
        raise ImportFailed(errors)
    label = {field: table.header[i] for field, i in index.items()}
    return ColumnPlan(index, label, tuple(c for c in unread if c not in near))


NEAR_MISS = 0.85  # difflib ratio: `ammount`/`amount` 0.92, `owner_email`/`owner` 0.67


def _squashed(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _near_misses(
    columns: Sequence[str], missing: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, str]]:
    """{column: (field, name)} for each column that is close to a name of a missing field
    (ignoring case, spaces and punctuation); a column counts once, for its closest field."""
    out: dict[str, tuple[str, str]] = {}
    for column in columns:
        squashed = _squashed(column)
        scored = [
            (SequenceMatcher(None, squashed, _squashed(name)).ratio(), field, name)
            for field, names in missing.items()
            for name in names
        ]
        best = max(scored, default=None, key=lambda s: s[0])
        if best is not None and best[0] >= NEAR_MISS:
            out[column] = (best[1], best[2])
    return out
