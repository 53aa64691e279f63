"""The stage map: CRM stage name -> order, default probability and outcome.

Lookups are case-insensitive. Precedence: a `--stage-map` file, then the `stage` table, then
the format's default stages (Salesforce and HubSpot standard pipelines).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from salesops_core.db.models import Outcome, Stage
from salesops_core.importers.csvfile import plan_columns, read_csv
from salesops_core.importers.parsing import parse_probability
from salesops_core.importers.report import ImportFailed, RowError


@dataclass(frozen=True)
class StageDef:
    """One stage: its canonical name, order, default probability (0..1) and outcome."""

    name: str
    order: int
    probability: float | None
    outcome: Outcome
    aliases: tuple[str, ...] = ()


SALESFORCE_STAGES = (
    StageDef("Prospecting", 1, 0.10, Outcome.OPEN),
    StageDef("Qualification", 2, 0.10, Outcome.OPEN),
    StageDef("Needs Analysis", 3, 0.20, Outcome.OPEN),
    StageDef("Value Proposition", 4, 0.50, Outcome.OPEN),
    StageDef("Id. Decision Makers", 5, 0.60, Outcome.OPEN),
    StageDef("Perception Analysis", 6, 0.70, Outcome.OPEN),
    StageDef("Proposal/Price Quote", 7, 0.75, Outcome.OPEN),
    StageDef("Negotiation/Review", 8, 0.90, Outcome.OPEN),
    StageDef("Closed Won", 9, 1.0, Outcome.WON),
    StageDef("Closed Lost", 10, 0.0, Outcome.LOST),
)

HUBSPOT_STAGES = (
    StageDef("Appointment Scheduled", 1, 0.20, Outcome.OPEN, ("appointmentscheduled",)),
    StageDef("Qualified To Buy", 2, 0.40, Outcome.OPEN, ("qualifiedtobuy",)),
    StageDef("Presentation Scheduled", 3, 0.60, Outcome.OPEN, ("presentationscheduled",)),
    StageDef("Decision Maker Bought-In", 4, 0.80, Outcome.OPEN, ("decisionmakerboughtin",)),
    StageDef("Contract Sent", 5, 0.90, Outcome.OPEN, ("contractsent",)),
    StageDef("Closed Won", 6, 1.0, Outcome.WON, ("closedwon",)),
    StageDef("Closed Lost", 7, 0.0, Outcome.LOST, ("closedlost",)),
)


def _key(name: str) -> str:
    return " ".join(name.split()).lower()


class StageMap:
    """Stage definitions by name (and alias), with where each one came from."""

    def __init__(self) -> None:
        self._by_key: dict[str, StageDef] = {}
        self.from_file: list[StageDef] = []
        self.defaults: set[str] = set()  # canonical names that came from a format default

    def add(self, stage: StageDef, *, source: str) -> None:
        """Add or override a stage; `source` is "file", "db" or "default"."""
        for alias in (stage.name, *stage.aliases):
            self._by_key[_key(alias)] = stage
        if source == "file":
            self.from_file.append(stage)
        if source == "default":
            self.defaults.add(stage.name)
        else:
            self.defaults.discard(stage.name)

    def get(self, name: str) -> StageDef | None:
        """The stage for a name or alias, ignoring case and repeated spaces."""
        return self._by_key.get(_key(name))


def build_stage_map(
    session: Session, defaults: Iterable[StageDef], from_file: Iterable[StageDef]
) -> StageMap:
    """Format defaults, overridden by the stage table, overridden by the stage map file."""
    stages = StageMap()
    for stage in defaults:
        stages.add(stage, source="default")
    rows = session.execute(
        select(Stage.name, Stage.sort_order, Stage.probability, Stage.outcome)
    ).all()
    for name, order, probability, outcome in rows:
        known = stages.get(name)
        aliases = known.aliases if known else ()
        stages.add(StageDef(name, order, probability, Outcome(outcome), aliases), source="db")
    for stage in from_file:
        known = stages.get(stage.name)
        aliases = known.aliases if known else ()
        stages.add(
            StageDef(stage.name, stage.order, stage.probability, stage.outcome, aliases),
            source="file",
        )
    return stages


def save_stages(session: Session, stages: StageMap, used_names: Iterable[str]) -> int:
    """Upsert the file's stages and add used default stages missing from the table.

    Returns how many stage rows were created or changed.
    """
    wanted = {s.name: s for s in stages.from_file}
    for name in used_names:
        if name in stages.defaults and name not in wanted:
            stage = stages.get(name)
            if stage is not None:
                wanted[name] = stage
    if not wanted:
        return 0
    table = Stage.__table__
    existing = {
        row.name.lower(): row
        for row in session.execute(
            select(
                table.c.id, table.c.name, table.c.sort_order, table.c.probability, table.c.outcome
            )
        )
    }
    changed = 0
    for stage in wanted.values():
        values = {
            "name": stage.name,
            "sort_order": stage.order,
            "probability": stage.probability,
            "outcome": stage.outcome,
        }
        row = existing.get(stage.name.lower())
        if row is None:
            session.execute(insert(table).values(values))
            changed += 1
        elif (row.sort_order, row.probability, row.outcome) != (
            stage.order,
            stage.probability,
            stage.outcome,
        ):
            session.execute(update(table).where(table.c.id == row.id).values(values))
            changed += 1
    return changed


def read_stage_map_file(path: Path) -> list[StageDef]:
    """Read a stage map CSV (`stage*,order,probability,outcome`); raise ImportFailed."""
    table = read_csv(path)
    fields = ("stage", "order", "probability", "outcome")
    plan = plan_columns(
        table,
        kind="stage map",
        fields=fields,
        required=("stage",),
        candidates={f: (f,) for f in fields},
        overrides={},
    )
    stages: list[StageDef] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, values in plan.rows(table):
        name = values["stage"]
        if not name:
            errors.append(RowError(table.file, line, "stage", "stage is required but empty"))
            continue
        if _key(name) in seen:
            errors.append(
                RowError(
                    table.file,
                    line,
                    "stage",
                    f"duplicate stage {name!r}, also on line {seen[_key(name)]}",
                )
            )
            continue
        seen[_key(name)] = line
        try:
            order = int(values.get("order") or len(stages) + 1)
        except ValueError:
            errors.append(
                RowError(table.file, line, "order", f"not a whole number: {values.get('order')!r}")
            )
            continue
        probability = None
        if values.get("probability"):
            try:
                probability = parse_probability(values["probability"])
            except ValueError as exc:
                errors.append(RowError(table.file, line, "probability", str(exc)))
                continue
        outcome_text = (values.get("outcome") or "open").lower()
        if outcome_text not in {o.value for o in Outcome}:
            errors.append(
                RowError(
                    table.file,
                    line,
                    "outcome",
                    f"unknown outcome {outcome_text!r}; use open, won or lost",
                )
            )
            continue
        stages.append(StageDef(name, order, probability, Outcome(outcome_text)))
    if errors:
        raise ImportFailed(errors)
    return stages
