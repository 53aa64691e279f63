"""The sync runner against an in-memory source: batches written through the importers, a
cursor per object moved with each batch, bad records skipped and reported, deletions, dry
runs, and a run killed between two batches resumed without loss or duplicates."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import (
    Deal,
    DealStageChange,
    Lead,
    Outcome,
    Rep,
    Stage,
    SyncPending,
    SyncRun,
)
from salesops_core.errors import BadArguments
from salesops_core.importers.stagemap import StageDef
from salesops_core.sync import log as sync_log
from salesops_core.sync.runner import run_sync
from salesops_core.sync.source import Batch, Removed, SyncError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DEAL_HEADER = ["external_id", "owner", "amount", "stage", "created_at", "closed_at"]
STAGES = (
    StageDef("Discovery", 1, 0.2, Outcome.OPEN),
    StageDef("Won", 2, 1.0, Outcome.WON),
)


def deal(n: int, amount: str = "1000", stage: str = "Discovery") -> tuple[str, list[str]]:
    closed = "2026-11-20T10:00:00Z" if stage == "Won" else ""
    return f"D{n}", [f"D{n}", "U1", amount, stage, "2026-11-01T09:00:00Z", closed]


def deals_batch(rows: list[tuple[str, list[str]]], position: str) -> Batch:
    return Batch("deals", "deals", "native", DEAL_HEADER, rows, position, stages=STAGES)


REPS = Batch(
    "owners",
    "reps",
    "native",
    ["name", "email", "crm_user_id"],
    [("U1", ["Ann Lee", "ann@example.com", "U1"])],
    "r1",
)


@dataclass
class ListSource:
    """A source whose batches are given; `fail_after` raises after that many deal batches."""

    batches: dict[str, list[Batch]]
    deletions: dict[str, list[Removed]] = field(default_factory=dict)
    fail_after: int | None = None
    error: Exception | None = None
    name: str = "testcrm"
    objects: tuple[str, ...] = ("owners", "deals")
    requests: int = 0
    asked: list[tuple[str, str | None]] = field(default_factory=list)
    current: dict[str, list[Batch]] = field(default_factory=dict)  # what refetch finds
    refetched: list[tuple[str, list[str]]] = field(default_factory=list)

    def check(self) -> str:
        return "test CRM"

    def pull(self, obj: str, position: str | None) -> Iterator[Batch]:
        self.asked.append((obj, position))
        for n, batch in enumerate(self.batches.get(obj, [])):
            if self.fail_after is not None and obj == "deals" and n == self.fail_after:
                raise self.error or RuntimeError("killed")
            if position is not None and batch.position is not None and batch.position <= position:
                continue
            self.requests += 1
            yield batch

    def refetch(self, obj: str, ids: Sequence[str]) -> Iterator[Batch]:
        self.refetched.append((obj, list(ids)))
        for batch in self.current.get(obj, []):
            rows = [row for row in batch.rows if row[0] in ids]
            if rows:
                yield replace(batch, rows=rows, position=None)

    def removed(self, obj: str, position: str | None) -> Iterator[Removed]:
        for removed in self.deletions.get(obj, []):
            if position is None or (removed.position or "") > position:
                yield removed


def sync(sessions: sessionmaker[Session], source: ListSource, **kwargs: object):  # type: ignore[no-untyped-def]
    return run_sync(
        sessions, source, org=OrgConfig(), sla=[SlaPolicy()], clock=lambda: NOW, **kwargs
    )  # type: ignore[arg-type]


def amounts(session: Session) -> dict[str, float]:
    return dict(session.execute(select(Deal.external_id, Deal.amount)).all())


def test_a_first_sync_writes_every_batch_and_logs_the_run(
    sessions: sessionmaker[Session],
) -> None:
    source = ListSource(
        {
            "owners": [REPS],
            "deals": [deals_batch([deal(1), deal(2)], "p1"), deals_batch([deal(3)], "p2")],
        }
    )
    report = sync(sessions, source)
    assert report.status == "ok"
    assert (report.counts["deals"].fetched, report.counts["deals"].created) == (3, 3)
    with sessions() as session:
        assert amounts(session) == {"D1": 1000.0, "D2": 1000.0, "D3": 1000.0}
        assert session.scalar(select(Rep.crm_user_id)) == "U1"
        stages = dict(session.execute(select(Stage.name, Stage.outcome)).all())
        assert stages == {"Discovery": "open", "Won": "won"}
        cursors = sync_log.cursors(session, "testcrm")
        assert (cursors["deals"].position, cursors["owners"].position) == ("p2", "r1")
        run = session.scalars(select(SyncRun)).one()
        assert (run.status, run.requests, run.counts["deals"]["created"]) == ("ok", 3, 3)


def test_the_next_sync_starts_at_each_cursor_and_full_starts_over(
    sessions: sessionmaker[Session],
) -> None:
    batches = {"owners": [REPS], "deals": [deals_batch([deal(1)], "p1")]}
    sync(sessions, ListSource(batches))
    again = ListSource(batches)
    sync(sessions, again)
    assert again.asked == [("owners", "r1"), ("deals", "p1")]
    full = ListSource(batches)
    report = sync(sessions, full, full=True)
    assert full.asked == [("owners", None), ("deals", None)]
    assert report.counts["deals"].unchanged == 1


def test_a_bad_record_is_skipped_and_reported_and_the_rest_written(
    sessions: sessionmaker[Session],
) -> None:
    rows = [
        deal(1),
        deal(2, amount="lots"),
        ("D3", ["D3", "NOBODY", "5", "Discovery", "2026-11-01", ""]),
    ]
    report = sync(sessions, ListSource({"owners": [REPS], "deals": [deals_batch(rows, "p1")]}))
    assert report.status == "partial"
    assert [(s.object, s.id, s.field) for s in report.skipped] == [
        ("deals", "D2", "amount"),
        ("deals", "D3", "owner"),
    ]
    assert "NOBODY" in report.skipped[1].reason
    with sessions() as session:
        assert amounts(session) == {"D1": 1000.0}
        run = session.scalars(select(SyncRun)).one()
        assert run.status == "partial"
        assert {e["id"] for e in run.errors} == {"D2", "D3"}
        assert run.counts["deals"]["skipped"] == 2
        assert sync_log.cursors(session, "testcrm")["deals"].position == "p1"


def test_a_run_killed_between_batches_resumes_without_loss_or_duplicates(
    sessions: sessionmaker[Session],
) -> None:
    batches = {
        "owners": [REPS],
        "deals": [
            deals_batch([deal(1), deal(2)], "p1"),
            deals_batch([deal(3), deal(1, stage="Won")], "p2"),
        ],
    }
    with pytest.raises(RuntimeError):
        sync(sessions, ListSource(batches, fail_after=1))
    with sessions() as session:
        assert set(amounts(session)) == {"D1", "D2"}  # the first batch stayed written
        assert sync_log.cursors(session, "testcrm")["deals"].position == "p1"
        assert session.scalars(select(SyncRun.status)).one() == "failed"
    resumed = ListSource(batches)
    sync(sessions, resumed)
    assert ("deals", "p1") in resumed.asked
    with sessions() as session:
        assert amounts(session) == {"D1": 1000.0, "D2": 1000.0, "D3": 1000.0}
        # D1 closed: its closing stage at its close (as an import of the closed deal records
        # it), and no change made up at the sync's time (the source sends the history)
        changes = session.execute(
            select(Deal.external_id, DealStageChange.stage, DealStageChange.entered_at)
            .join(Deal, Deal.id == DealStageChange.deal_id)
            .order_by(Deal.external_id, DealStageChange.entered_at)
        ).all()
    assert [tuple(c) for c in changes] == [
        ("D1", "Discovery", datetime(2026, 11, 1, 9, 0, tzinfo=UTC)),
        ("D1", "Won", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("D2", "Discovery", datetime(2026, 11, 1, 9, 0, tzinfo=UTC)),
        ("D3", "Discovery", datetime(2026, 11, 1, 9, 0, tzinfo=UTC)),
    ]


def test_a_crm_error_stops_the_run_and_keeps_what_was_written(
    sessions: sessionmaker[Session],
) -> None:
    batches = {
        "owners": [REPS],
        "deals": [deals_batch([deal(1)], "p1"), deals_batch([deal(2)], "p2")],
    }
    source = ListSource(batches, fail_after=1, error=SyncError("the API refused: limit reached"))
    report = sync(sessions, source)
    assert (report.status, report.message) == ("failed", "the API refused: limit reached")
    with sessions() as session:
        assert set(amounts(session)) == {"D1"}
        run = session.scalars(select(SyncRun)).one()
        assert (run.status, run.message) == ("failed", "the API refused: limit reached")


def test_removed_records_disappear_and_move_the_deletion_cursor(
    sessions: sessionmaker[Session],
) -> None:
    batches = {"owners": [REPS], "deals": [deals_batch([deal(1), deal(2)], "p1")]}
    sync(sessions, ListSource(batches))
    gone = {"deals": [Removed("deals", "deals", ["D2", "D9"], "d1")]}
    report = sync(sessions, ListSource(batches, deletions=gone))
    assert report.counts["deals"].removed == 1
    with sessions() as session:
        assert set(amounts(session)) == {"D1"}
        assert sync_log.cursors(session, "testcrm")["deals"].deleted_position == "d1"


def test_a_dry_run_writes_nothing_and_moves_no_cursor(sessions: sessionmaker[Session]) -> None:
    batches = {"owners": [REPS], "deals": [deals_batch([deal(1)], "p1")]}
    report = sync(sessions, ListSource(batches), dry_run=True)
    assert (report.status, report.counts["deals"].created) == ("ok", 1)
    with sessions() as session:
        assert amounts(session) == {}
        assert sync_log.cursors(session, "testcrm") == {}
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 0


def test_objects_must_be_the_sources_own(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(BadArguments, match=r"no object 'Deals2'.*owners, deals"):
        sync(sessions, ListSource({}), objects=["Deals2"])
    source = ListSource({"owners": [REPS]})
    sync(sessions, source, objects=["DEALS", "owners"])
    assert [obj for obj, _ in source.asked] == ["owners", "deals"]


def test_a_run_left_running_by_a_dead_process_is_marked_interrupted(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        session.add(
            SyncRun(source="testcrm", started_at=NOW, status="running", full=False, requests=0)
        )
    sync(sessions, ListSource({"owners": [REPS]}))
    with sessions() as session:
        statuses = session.scalars(select(SyncRun.status).order_by(SyncRun.id)).all()
        assert statuses == ["interrupted", "ok"]


def test_synced_leads_get_their_sla_deadline_as_an_import_gives_them(
    sessions: sessionmaker[Session],
) -> None:
    leads = Batch(
        "leads",
        "leads",
        "native",
        ["external_id", "owner", "source", "created_at"],
        [("L1", ["L1", "U1", "web", "2026-11-30T10:00:00Z"])],
        "l1",
    )
    source = ListSource({"owners": [REPS], "leads": [leads]}, objects=("owners", "leads"))
    sync(sessions, source)
    with sessions() as session:
        due = session.scalar(select(Lead.sla_due_at))
    assert due == datetime(2026, 11, 30, 10, 5, tzinfo=UTC)  # the default 5-minute SLA


def test_a_skipped_record_is_fetched_again_by_id_until_it_is_written(
    sessions: sessionmaker[Session],
) -> None:
    bad = ("D2", ["D2", "NOBODY", "5", "Discovery", "2026-11-01T09:00:00Z", ""])
    batches = {"owners": [REPS], "deals": [deals_batch([deal(1), bad, deal(3)], "p1")]}
    sync(sessions, ListSource(batches))
    with sessions() as session:
        held = session.execute(select(SyncPending.record_id, SyncPending.reason)).all()
    assert [(i, r.split(":")[0]) for i, r in held] == [("D2", "owner")]

    still_bad = ListSource(batches, current={"deals": [deals_batch([bad], "p9")]})
    report = sync(sessions, still_bad)  # the cursor is past D2: only the id brings it back
    assert still_bad.refetched == [("deals", ["D2"])]
    assert [s.id for s in report.skipped] == ["D2"]

    fixed = deals_batch([deal(2)], "p9")
    report = sync(sessions, ListSource(batches, current={"deals": [fixed]}))
    assert report.status == "ok" and report.counts["deals"].created == 1
    with sessions() as session:
        assert set(amounts(session)) == {"D1", "D2", "D3"}
        assert session.scalar(select(func.count()).select_from(SyncPending)) == 0


def test_a_held_record_the_crm_no_longer_has_is_let_go(sessions: sessionmaker[Session]) -> None:
    bad = ("D2", ["D2", "NOBODY", "5", "Discovery", "2026-11-01T09:00:00Z", ""])
    batches = {"owners": [REPS], "deals": [deals_batch([deal(1), bad], "p1")]}
    sync(sessions, ListSource(batches))
    sync(sessions, ListSource(batches, current={}))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SyncPending)) == 0
