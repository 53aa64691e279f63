"""Importing reps: upsert on email (else name) and build the team structure.

`team` and `region` create or update Team rows; `manager` names a rep (name, email or CRM
id) from the same file or the database. A new rep without a role who manages someone in the
file becomes a manager.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Role, Team
from salesops_core.importers import bulk, parsing
from salesops_core.importers.csvfile import CsvTable, plan_columns
from salesops_core.importers.fields import FIELDS, REQUIRED
from salesops_core.importers.formats import FormatSpec
from salesops_core.importers.options import ImportOptions
from salesops_core.importers.report import ImportFailed, ImportResult, RowError

_REP_COLUMNS = ("name", "email", "slack_user_id", "timezone", "active", "crm_user_id")


def import_reps(
    session: Session, table: CsvTable, options: ImportOptions, spec: FormatSpec
) -> ImportResult:
    """Import a reps file (see module doc). Raises ImportFailed on bad rows."""
    plan = plan_columns(
        table,
        kind="reps",
        fields=FIELDS["reps"],
        required=REQUIRED["reps"],
        candidates=spec.columns,
        overrides=options.column_map,
    )
    label = plan.label
    empty_means = spec.name != "salesforce"  # Salesforce writes false as an empty cell
    errors: list[RowError] = []
    rows: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    seen: dict[str, dict[str, int]] = {
        "email": {},
        "name": {},
        "slack_user_id": {},
        "crm_user_id": {},
    }
    for line, raw in plan.rows(table):
        problems: list[tuple[str, str]] = []
        values: dict[str, Any] = {}
        values["name"] = raw["name"] or None
        if not values["name"]:
            problems.append((label["name"], "name is required but empty"))
        for name in ("email", "slack_user_id", "timezone", "crm_user_id"):
            if plan.has(name):
                values[name] = raw[name] or None
        if values.get("email"):
            values["email"] = values["email"].lower()
            if "@" not in values["email"]:
                problems.append((label["email"], f"not an email address: {raw['email']!r}"))
        if values.get("timezone"):
            try:
                ZoneInfo(values["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(
                    (
                        label["timezone"],
                        f"unknown time zone {values['timezone']!r}; "
                        "use an IANA name such as Europe/Berlin",
                    )
                )
        if plan.has("active"):
            try:
                values["active"] = (
                    parsing.parse_bool(raw["active"]) if raw["active"] else empty_means
                )
            except ValueError as exc:
                problems.append((label["active"], str(exc)))
        role = raw.get("role", "").lower()
        if role and role not in {r.value for r in Role}:
            problems.append(
                (label["role"], f"unknown role {raw['role']!r}; use rep, manager or admin")
            )
        for name in ("email", "name", "slack_user_id", "crm_user_id"):
            value = values.get(name)
            if not value or (name == "name" and values.get("email")):
                continue
            value = value.lower() if name == "name" else value
            if value in seen[name]:
                problems.append(
                    (
                        label[name],
                        f"duplicate {name} {values[name]!r}, also on line {seen[name][value]}",
                    )
                )
            else:
                seen[name][value] = line
        errors += [RowError(table.file, line, col, why) for col, why in problems]
        rows.append((line, values, raw))
    existing = _existing_reps(session)
    _match(rows, existing, table.file, label, errors)
    _check_unique(rows, existing, table.file, label, errors)
    managers = _resolve_managers(rows, existing, table.file, label, errors)
    teams = _team_regions(rows, table.file, label, errors)
    if errors:
        raise ImportFailed(errors, rows_total=len(rows))
    return _write_reps(session, table, plan.has, rows, managers, teams)


def _existing_reps(session: Session) -> list[dict[str, Any]]:
    table = Rep.__table__
    return [dict(r) for r in session.execute(select(table)).mappings()]


def _match(rows: list, existing: list, file: str, label: dict, errors: list) -> None:
    """Attach the id of the stored rep each row updates (email, CRM id, then name)."""
    by_email = {r["email"]: r for r in existing if r["email"]}
    by_crm = {r["crm_user_id"]: r for r in existing if r["crm_user_id"]}
    by_name: dict[str, list] = {}
    for r in existing:
        by_name.setdefault(r["name"].lower(), []).append(r)
    for line, values, _raw in rows:
        match = by_email.get(values.get("email") or "") or by_crm.get(
            values.get("crm_user_id") or ""
        )
        if match is None and not values.get("email") and values["name"]:
            named = by_name.get(values["name"].lower(), [])
            if len(named) > 1:
                errors.append(
                    RowError(
                        file,
                        line,
                        label["name"],
                        f"{len(named)} reps are named {values['name']!r}; add an email column",
                    )
                )
            match = named[0] if len(named) == 1 else None
        values["_old"] = match


def _check_unique(rows: list, existing: list, file: str, label: dict, errors: list) -> None:
    for name in ("slack_user_id", "crm_user_id", "email"):
        holders = {r[name]: r["id"] for r in existing if r[name]}
        for line, values, _raw in rows:
            value, old = values.get(name), values["_old"]
            if value and value in holders and (old is None or holders[value] != old["id"]):
                errors.append(
                    RowError(
                        file,
                        line,
                        label[name],
                        f"{name} {value!r} already belongs to another rep (id {holders[value]})",
                    )
                )


def _resolve_managers(rows: list, existing: list, file: str, label: dict, errors: list) -> dict:
    """{line: ('file', line) | ('db', id)} for each row naming a manager."""
    in_file: dict[str, int] = {}
    for line, values, _raw in rows:
        for key in (values.get("email"), values["name"], values.get("crm_user_id")):
            if key:
                in_file.setdefault(key.lower(), line)
    in_db: dict[str, list[int]] = {}
    for r in existing:
        for key in (r["email"], r["name"], r["crm_user_id"]):
            if key:
                in_db.setdefault(key.lower(), []).append(r["id"])
    managers: dict[int, tuple[str, int]] = {}
    for line, _values, raw in rows:
        name = raw.get("manager", "")
        if not name:
            continue
        if name.lower() in in_file:
            target = ("file", in_file[name.lower()])
            if target[1] == line:
                errors.append(
                    RowError(file, line, label["manager"], "a rep cannot manage themselves")
                )
                continue
        elif len(set(in_db.get(name.lower(), []))) == 1:
            target = ("db", in_db[name.lower()][0])
        else:
            errors.append(
                RowError(
                    file,
                    line,
                    label["manager"],
                    f"unknown manager {name!r}; list them in this file or import them first",
                )
            )
            continue
        managers[line] = target
    return managers


def _team_regions(rows: list, file: str, label: dict, errors: list) -> dict[str, str | None]:
    teams: dict[str, tuple[str, str | None, int]] = {}
    for line, _values, raw in rows:
        team, region = raw.get("team", ""), raw.get("region", "") or None
        if not team:
            continue
        known = teams.get(team.lower())
        if known is None or (known[1] is None and region):
            teams[team.lower()] = (team, region, line)
        elif region and known[1] and region != known[1]:
            errors.append(
                RowError(
                    file,
                    line,
                    label["region"],
                    f"team {team!r} is in region {known[1]!r} on line {known[2]}",
                )
            )
    return {name: region for name, region, _ in teams.values()}


def _write_reps(
    session: Session,
    table: CsvTable,
    has: Any,
    rows: list,
    managers: dict,
    teams: dict[str, str | None],
) -> ImportResult:
    result = ImportResult(kind="reps", file=table.file, header=table.header)
    team_ids = _save_teams(session, teams, result)
    managed_lines = {t[1] for t in managers.values() if t[0] == "file"}
    columns = [c for c in _REP_COLUMNS if c == "name" or has(c)]
    if has("team"):
        columns.append("team_id")
    ids_by_line: dict[int, int] = {}
    new: list[tuple[int, dict[str, Any]]] = []
    changed: list[tuple[int, dict[str, Any]]] = []
    for line, values, raw in rows:
        row = {c: values.get(c) for c in columns if c != "team_id"}
        if has("team"):
            row["team_id"] = team_ids.get(raw["team"].lower()) if raw["team"] else None
        old = values["_old"]
        role = raw.get("role", "").lower()
        if role:
            row["role"] = Role(role)
        elif old is None:
            row["role"] = Role.MANAGER if line in managed_lines else Role.REP
        if old is None:
            new.append((line, row))
            continue
        ids_by_line[line] = old["id"]
        if all(bulk.same(old[c], v) for c, v in row.items()):
            result.unchanged += 1
        else:
            changed.append((old["id"], row))
    for (line, _row), rep_id in zip(new, _insert_each_shape(session, new), strict=True):
        ids_by_line[line] = rep_id
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for rep_id, row in changed:
        groups.setdefault(tuple(row), []).append((rep_id, row))
    for group in groups.values():
        bulk.update_rows(session, Rep.__table__, group)
    result.created, result.updated = len(new), len(changed)
    _save_managers(session, rows, managers, ids_by_line, has("manager"), result, changed)
    return result


def _insert_each_shape(session: Session, new: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Insert new reps (grouped by column set so executemany works); ids in input order."""
    ids: dict[int, int] = {}
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for line, row in new:
        groups.setdefault(tuple(row), []).append((line, row))
    for group in groups.values():
        got = bulk.insert_rows(session, Rep.__table__, [r for _, r in group], returning=True)
        ids.update({line: rep_id for (line, _), rep_id in zip(group, got, strict=True)})
    return [ids[line] for line, _ in new]


def _save_teams(session: Session, teams: dict[str, str | None], result: ImportResult) -> dict:
    table = Team.__table__
    stored = {r.name.lower(): r for r in session.execute(select(table))}
    ids: dict[str, int] = {}
    created = 0
    for name, region in teams.items():
        row = stored.get(name.lower())
        if row is None:
            ids[name.lower()] = bulk.insert_rows(
                session, table, [{"name": name, "region": region}], returning=True
            )[0]
            created += 1
        else:
            ids[name.lower()] = row.id
            if region and row.region != region:
                bulk.update_rows(session, table, [(row.id, {"region": region})])
    if created:
        result.warnings.append(f"{created} team(s) created")
    return ids


def _save_managers(
    session: Session,
    rows: list,
    managers: dict,
    ids_by_line: dict,
    has_column: bool,
    result: ImportResult,
    changed: list,
) -> None:
    if not has_column:
        return
    changed_ids = {rep_id for rep_id, _ in changed}
    updates: list[tuple[int, dict[str, Any]]] = []
    for line, values, _raw in rows:
        target = managers.get(line)
        manager_id = None
        if target is not None:
            manager_id = ids_by_line[target[1]] if target[0] == "file" else target[1]
        old = values["_old"]
        if old is not None and old["manager_id"] == manager_id:
            continue
        updates.append((ids_by_line[line], {"manager_id": manager_id}))
        if old is not None and old["id"] not in changed_ids:
            result.unchanged -= 1
            result.updated += 1
            changed_ids.add(old["id"])
    bulk.update_rows(session, Rep.__table__, updates)
