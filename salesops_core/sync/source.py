"""What a CRM source hands the sync: batches of records shaped like that CRM's CSV export,
and the ids of records removed there. The runner writes them through the importers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from salesops_core.errors import SalesopsError
from salesops_core.importers.stagemap import StageDef

FieldMap = Mapping[str, Mapping[str, str]]  # CRM object -> {native field: CRM field}


class SyncError(SalesopsError):
    """The sync cannot go on: bad credentials, an API that keeps refusing, a bad answer.
    The message says what was wrong and how to fix it, and never holds a secret."""


@dataclass(frozen=True)
class Batch:
    """Records of one CRM object as its CSV export would hold them: a header of the API's
    field names (the import format's column names) and each record's cells as text."""

    object: str  # the CRM object: "Opportunity", "deals"
    kind: str  # the import kind: reps, deals, stage_changes, leads, activities, quotas
    format: str  # the import format: salesforce, hubspot, native
    header: list[str]
    rows: list[tuple[str, list[str]]]  # (the record's CRM id, its cells in header order)
    position: str | None  # the object's cursor once this batch is written
    stages: tuple[StageDef, ...] = field(default=())  # stages the CRM declares, saved first
    # native field -> header name: the source's own choices and the user's field map
    column_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Removed:
    """Records deleted, merged away or archived in the CRM since the last sync."""

    object: str
    kind: str  # deals, leads, activities, stage_changes
    ids: list[str]  # CRM ids = the rows' external ids here
    position: str | None  # the object's deletion cursor once these are removed


class Source(Protocol):
    """One connected CRM. `pull` yields an object's batches oldest change first, so a sync
    stopped half-way resumes from the last written position; None means from the start."""

    name: str  # "salesforce" | "hubspot"
    objects: tuple[str, ...]  # every object it syncs, in write order (people before deals)
    requests: int  # HTTP requests made so far (retries included)

    def check(self) -> str:
        """One line naming the org and API version; raises SyncError when it cannot connect."""
        ...

    def pull(self, obj: str, position: str | None) -> Iterator[Batch]:
        """The object's records changed at or after `position`, in batches."""
        ...

    def refetch(self, obj: str, ids: Sequence[str]) -> Iterator[Batch]:
        """These records as the CRM holds them now, in batches without a position (a
        record it no longer has is simply missing)."""
        ...

    def removed(self, obj: str, position: str | None) -> Iterator[Removed]:
        """The object's records removed after `position` (nothing for objects without)."""
        ...
