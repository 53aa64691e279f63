"""How to read one import file: the options the CLI (or a caller) passes to `import_file`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

Progress = Callable[[str, int, int], None]  # (phase, rows done, rows in all)


@dataclass(frozen=True)
class ImportOptions:
    """How to read one file. `tz` is the org time zone (dates alone are midnight there)."""

    kind: str
    format: str = "native"
    column_map: Mapping[str, str] = field(default_factory=dict)
    stage_map_file: Path | None = None
    owners_file: Path | None = None
    create_missing: bool = False
    skip_invalid: bool = False
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    now: datetime | None = None
    # the source sends each deal's stage history (a CRM sync): a changed deal gets no
    # stage change stamped at `now` (its history rows say when it really moved), only a
    # deal that closed gets its closing stage at its close, as a new closed deal does
    history_from_source: bool = False
