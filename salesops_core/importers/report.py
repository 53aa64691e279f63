"""What an import reports: row errors, the failure that carries them, the summary and the
file of rejected rows."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from salesops_core.errors import SalesopsError

MAX_LISTED_ERRORS = 20
MAX_LISTED_COLUMNS = 6


@dataclass(frozen=True)
class RowError:
    """One problem: the file, its line as a spreadsheet shows it (header = 1), the column.

    A reason about the whole file that starts with "is " reads on from the file's name
    (`orders.xlsx is an Excel workbook, ...`)."""

    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column:
            where += f", column {self.column}"
        elif self.line is None and self.reason.startswith("is "):
            return f"{where} {self.reason}"
        return f"{where}: {self.reason}"


class ImportFailed(SalesopsError):
    """The file (or some of its rows) could not be imported; nothing was written."""

    def __init__(self, errors: list[RowError], *, rows_total: int | None = None) -> None:
        self.errors = errors
        self.rows_total = rows_total
        super().__init__(self.describe())

    def describe(self, limit: int = MAX_LISTED_ERRORS) -> str:
        """The first `limit` errors, one a line, then how many more there are; a file that
        cannot be read at all is one line."""
        if len(self.errors) == 1 and self.errors[0].line is None:
            return str(self.errors[0])
        bad_lines = {(e.file, e.line) for e in self.errors if e.line and e.line > 1}
        head = f"import failed, nothing was written: {len(self.errors)} error(s)"
        if bad_lines and self.rows_total:
            head += f" in {len(bad_lines)} of {self.rows_total} rows"
        groups: dict[tuple[str, str | None, str], list[RowError]] = {}
        for error in self.errors:
            groups.setdefault((error.file, error.column, error.reason), []).append(error)
        lines = [head + ":"]
        for same in list(groups.values())[:limit]:
            lines.append(f"  {same[0] if len(same) == 1 else _grouped(same)}")
        if len(groups) > limit:
            lines.append(f"  ... {len(groups) - limit} more")
        return "\n".join(lines)


def _grouped(errors: list[RowError]) -> str:
    """One line for the same problem on many lines: `f.csv lines 2-5, 9 (5 rows), column x`."""
    numbers = [e.line for e in errors if e.line is not None]
    ranges: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    shown = ", ".join(ranges[:10]) + (", ..." if len(ranges) > 10 else "")
    first = errors[0]
    where = f"{first.file} lines {shown} ({len(errors)} rows)"
    if first.column:
        where += f", column {first.column}"
    return f"{where}: {first.reason}"


@dataclass
class ImportResult:
    """Counts of one import. `rejected` rows were skipped (only with skip_invalid)."""

    kind: str
    file: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    reps_created: int = 0
    stages_saved: int = 0
    stage_changes: int = 0
    warnings: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        """Rows created or updated."""
        return self.created + self.updated

    def summary(self) -> str:
        """One line: `deals: 3 created, 1 updated, 46 unchanged` (+ rejected, reps, stages);
        a stage changes file says `N stage change(s) recorded` for created."""
        created = "stage change(s) recorded" if self.kind == "stage_changes" else "created"
        text = (
            f"{self.kind}: {self.created} {created}, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.rejected:
            text += f", {len(self.rejected)} rejected"
        if self.reps_created:
            text += f"; {self.reps_created} rep(s) created"
        if self.stages_saved:
            text += f"; {self.stages_saved} stage(s) saved to the stage map"
        if self.stage_changes:
            text += f"; {self.stage_changes} stage change(s) recorded"
        return text

    def notes(self) -> list[str]:
        """The warnings, then the columns no field read, named once (the first few)."""
        ignored = [f"`{c}`" for c in self.ignored_columns]
        if not ignored:
            return list(self.warnings)
        shown = ", ".join(ignored[:MAX_LISTED_COLUMNS])
        if len(ignored) > MAX_LISTED_COLUMNS:
            shown += f" and {len(ignored) - MAX_LISTED_COLUMNS} more"
        if len(ignored) == 1:
            note = f"ignored column {shown} (not a {self.kind} field)"
        else:
            note = f"ignored {len(ignored)} columns (not {self.kind} fields): {shown}"
        return [*self.warnings, note]


def rejected_path(source: Path, *, writable_dir: bool) -> Path:
    """Where rejected rows go: `<name>.rejected.csv` beside the input, else in the cwd."""
    name = f"{source.stem}.rejected.csv"
    return source.with_name(name) if writable_dir else Path.cwd() / name


def write_rejected(result: ImportResult, path: Path) -> Path:
    """Write the rejected rows (original columns + line + reason) as CSV to `path`."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*result.header, "line", "reason"])
        for line, raw, reason in result.rejected:
            writer.writerow([*(raw.get(c, "") for c in result.header), line, reason])
    return path
