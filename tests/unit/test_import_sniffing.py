"""A file that is no CSV text is named for what it is, in one line (pure, no database)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from salesops_core.importers.csvfile import read_csv
from salesops_core.importers.report import ImportFailed

SAVE_AS = "in Excel use File > Save As > CSV UTF-8"
EXPORT = "export it as CSV (UTF-8, with a header row) and import that"


def workbook() -> bytes:
    """The parts that make a zip an Excel workbook (what Excel writes first)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        book.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        book.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet>" + "<row/>" * 500 + "</worksheet>")
    return out.getvalue()


def archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        bundle.writestr("deals.csv", "external_id,owner\nD-1,ada@example.com\n")
    return out.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("orders.xlsx", workbook(), f"orders.xlsx is an Excel workbook, not CSV: {SAVE_AS}"),
        ("export.csv", workbook(), f"export.csv is an Excel workbook, not CSV: {SAVE_AS}"),
        ("orders.xls", OLE, "orders.xls is an Excel 97-2003 workbook (or another Office file), "
         f"not CSV: {SAVE_AS}"),
        ("deals.zip", archive(), "deals.zip is a ZIP archive, not CSV: unpack it and import the "
         "CSV inside"),
        ("chart.png", PNG, f"chart.png is a PNG image, not CSV: {EXPORT}"),
        ("scan.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", f"scan.jpg is a JPEG image, not CSV: "
         f"{EXPORT}"),
        ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", f"report.pdf is a PDF document, "
         f"not CSV: {EXPORT}"),
        ("deals.json", b'\n  [{"external_id": "D-1", "owner": "ada@example.com"}]\n',
         "deals.json is JSON, not CSV: convert it to CSV with a header row (or send the records "
         "to the ingest API: POST /api/v1/deals, /leads or /activities)"),
        ("lead.csv", b'\xef\xbb\xbf{"external_id": "L-1"}',
         "lead.csv is JSON, not CSV: convert it to CSV with a header row (or send the records "
         "to the ingest API: POST /api/v1/deals, /leads or /activities)"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_csv_is_named_for_what_it_is_in_one_line(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImportFailed) as failed:
        read_csv(path)
    assert failed.value.describe() == message


def test_utf16_is_still_called_utf16_and_csv_text_that_looks_odd_is_read_as_csv(
    tmp_path: Path,
) -> None:
    utf16 = tmp_path / "deals.csv"
    utf16.write_bytes("external_id,owner\nD-1,ada@example.com\n".encode("utf-16"))
    with pytest.raises(ImportFailed) as failed:
        read_csv(utf16)
    assert failed.value.describe().startswith("deals.csv: the file is UTF-16 encoded; re-save")
    bracketed = tmp_path / "export.csv"
    bracketed.write_text("[Id],[Owner]\nD-1,ada@example.com\n", encoding="utf-8")
    assert read_csv(bracketed).header == ["[Id]", "[Owner]"]
    misnamed = tmp_path / "deals.xlsx"
    misnamed.write_text("external_id,owner\nD-1,ada@example.com\n", encoding="utf-8")
    table = read_csv(misnamed)
    assert (table.header, table.records) == (
        ["external_id", "owner"],
        [(2, ["D-1", "ada@example.com"])],
    )
