"""Importing reps: upsert on email (else name) and build the team structure.

`team` and `region` create or update Team rows; `manager` names a rep (name, email or CRM
id) from the same file or the database. A new rep without a role who manages someone in the
file becomes a manager.

Sales-team exports often list only agents, each with their manager's name and region. With
`create_missing`, a manager named by nobody's row is created (role manager) in the team most
of their reps name; when none of their reps names a team, the manager and those reps form a
team named `Team <manager>`, whose region comes from the reps' rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Role, Team
from salesops_core.importers import bulk, limits, parsing
from salesops_core.importers.csvfile import CsvTable, plan_columns
from salesops_core.importers.fields import FIELDS, REQUIRED
from salesops_core.importers.formats import FormatSpec
from salesops_core.importers.options import ImportOptions
from salesops_core.importers.owners import name_from_email
from salesops_core.importers.report import ImportFailed, ImportResult, RowError

_REP_COLUMNS = ("name", "email", "slack_user_id", "timezone", "active", "crm_user_id")


@dataclass
class NewManager:
    """A manager the file names but does not list, created with `create_missing`."""

    name: str
    email: str | None
    lines: list[int] = field(default_factory=list)  # the rows of the reps they manage
    team: str | None = None


def generated_team_name(manager: str) -> str:
    """The team of a created manager whose reps name no team."""
    return f"Team {manager}"


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
        for name, length in limits.REP_TEXT_LENGTHS.items():
            problem = limits.text_problem(raw[name], length) if raw.get(name) else None
            if problem is not None:
                problems.append((label[name], f"{name} {problem}"))
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
    managers, missing = _resolve_managers(
        rows, existing, table.file, label, errors, create_missing=options.create_missing
    )
    _place_new_managers(rows, missing)
    teams = _team_regions(rows, table.file, label, errors)
    if errors:
        raise ImportFailed(errors, rows_total=len(rows))
    result = _write_reps(session, table, plan.has, rows, managers, teams, missing)
    result.ignored_columns = list(plan.ignored)
    return result


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


def _resolve_managers(
    rows: list, existing: list, file: str, label: dict, errors: list, *, create_missing: bool
) -> tuple[dict, dict[str, NewManager]]:
    """{line: ('file', line) | ('db', id) | ('new', key)} for each row naming a manager, and
    the managers to create (by key) when `create_missing`."""
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
    managers: dict[int, tuple[str, Any]] = {}
    missing: dict[str, NewManager] = {}
    for line, _values, raw in rows:
        name = raw.get("manager", "")
        key = name.lower()
        if not name:
            continue
        stored = set(in_db.get(key, []))
        target: tuple[str, Any]
        if key in in_file:
            target = ("file", in_file[key])
            if target[1] == line:
                errors.append(
                    RowError(file, line, label["manager"], "a rep cannot manage themselves")
                )
                continue
        elif len(stored) == 1:
            target = ("db", stored.pop())
        elif stored:
            reason = f"{len(stored)} reps are named {name!r}; name the manager by email"
            errors.append(RowError(file, line, label["manager"], reason))
            continue
        elif create_missing:
            email = key if "@" in key else None
            created = name_from_email(name) if email else name
            too_long = _created_manager_problem(created)
            if too_long is not None:
                errors.append(RowError(file, line, label["manager"], too_long))
                continue
            new = missing.setdefault(key, NewManager(created, email))
            new.lines.append(line)
            target = ("new", key)
        else:
            reason = (
                f"unknown manager {name!r}; list them in this file, import them first, "
                "or pass --create-missing to create them"
            )
            errors.append(RowError(file, line, label["manager"], reason))
            continue
        managers[line] = target
    return managers, missing


def _created_manager_problem(name: str) -> str | None:
    """Why a manager cannot be created under this name: it, or `Team <name>`, is too long."""
    for what, text in (("name", name), ("team", generated_team_name(name))):
        problem = limits.text_problem(text, limits.REP_TEXT_LENGTHS[what])
        if problem is not None:
            return f"the created manager's {what} {problem}"
    return None


def _place_new_managers(rows: list, missing: dict[str, NewManager]) -> None:
    """Put each created manager into the team most of their reps name (the first such team
    on a tie); when none of them names a team, the manager and those reps form `Team <name>`
    (a stored rep the file gives no team column keeps the team they have)."""
    by_line = {line: (values, raw) for line, values, raw in rows}
    for new in missing.values():
        teams = Counter((by_line[line][1].get("team") or "").lower() for line in new.lines)
        teams.pop("", None)  # team names match ignoring case, as `_team_regions` keys them
        if teams:
            new.team = teams.most_common(1)[0][0]
            continue
        new.team = generated_team_name(new.name)
        for line in new.lines:
            values, raw = by_line[line]
            old = values["_old"]
            if "team" in raw or old is None or old["team_id"] is None:
                raw["team"] = new.team


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
    missing: dict[str, NewManager],
) -> ImportResult:
    result = ImportResult(kind="reps", file=table.file, header=table.header)
    team_ids = _save_teams(session, teams, result)
    new_manager_ids = _create_managers(session, missing, team_ids, result)
    managed_lines = {t[1] for t in managers.values() if t[0] == "file"}
    columns = [c for c in _REP_COLUMNS if c == "name" or has(c)]
    ids_by_line: dict[int, int] = {}
    new: list[tuple[int, dict[str, Any]]] = []
    changed: list[tuple[int, dict[str, Any]]] = []
    for line, values, raw in rows:
        row = {c: values.get(c) for c in columns}
        if "team" in raw:  # a team column, or the team of a created manager
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
    ids: dict[str, dict[Any, int]] = {"file": ids_by_line, "new": new_manager_ids}
    with_manager = _insert_new(session, new, managers, ids) if has("manager") else {}
    if not has("manager"):
        for (line, _row), rep_id in zip(new, _insert_each_shape(session, new), strict=True):
            ids_by_line[line] = rep_id
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for rep_id, row in changed:
        groups.setdefault(tuple(row), []).append((rep_id, row))
    for group in groups.values():
        bulk.update_rows(session, Rep.__table__, group)
    result.created, result.updated = len(new), len(changed)
    _save_managers(session, rows, managers, ids, has("manager"), result, changed, with_manager)
    return result


def _insert_new(
    session: Session, new: list[tuple[int, dict[str, Any]]], managers: dict, ids: dict
) -> dict[int, int | None]:
    """Insert new reps, each manager before the reps they manage, so rows carry their
    manager_id; reps in a management cycle get theirs later. {line: manager_id inserted}."""
    new_lines = {line for line, _row in new}
    depth: dict[int, int] = {}  # 0: the manager is known or absent; -1: in or under a cycle
    for line in new_lines:
        path: list[int] = []
        at: int | None = line
        while at is not None and at not in depth:
            if at in path:
                depth.update(dict.fromkeys(path, -1))
                break
            path.append(at)
            target = managers.get(at)
            at = target[1] if target and target[0] == "file" and target[1] in new_lines else None
        else:
            above = -1 if at is None else depth[at]  # the known manager's depth
            base = 0 if at is None else -1 if above < 0 else above + 1
            for n, step in enumerate(reversed(path)):
                depth[step] = -1 if base < 0 else base + n
    inserted: dict[int, int | None] = {}
    levels: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for line, row in new:
        levels.setdefault(depth[line], []).append((line, row))
    for level in sorted(levels, key=lambda d: (d < 0, d)):
        batch = []
        for line, row in levels[level]:
            if level >= 0:
                manager_id = _manager_id(managers.get(line), ids)
                row = {**row, "manager_id": manager_id}
                inserted[line] = manager_id
            batch.append((line, row))
        for (line, _row), rep_id in zip(batch, _insert_each_shape(session, batch), strict=True):
            ids["file"][line] = rep_id
    return inserted


def _manager_id(target: tuple[str, Any] | None, ids: dict[str, dict[Any, int]]) -> int | None:
    """The rep id a row's manager target names: a stored rep ("db", id), a row of the file
    ("file", line) or a created manager ("new", key), from the ids inserted so far."""
    if target is None:
        return None
    kind, ref = target
    return ref if kind == "db" else ids[kind][ref]


def _create_managers(
    session: Session, missing: dict[str, NewManager], team_ids: dict[str, int], result: ImportResult
) -> dict[str, int]:
    """Insert the managers the file names but does not list; {key: new rep id}."""
    rows = [
        {
            "name": new.name,
            "email": new.email,
            "role": Role.MANAGER,
            "team_id": team_ids[new.team.lower()] if new.team else None,
        }
        for new in missing.values()
    ]
    if not rows:
        return {}
    ids = bulk.insert_rows(session, Rep.__table__, rows, returning=True)
    names = ", ".join(new.name for new in missing.values())
    result.warnings.append(f"{len(rows)} manager(s) created (--create-missing): {names}")
    return dict(zip(missing, ids, strict=True))


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
    new: list[dict[str, Any]] = []
    moved: list[tuple[int, dict[str, Any]]] = []
    for name, region in teams.items():
        row = stored.get(name.lower())
        if row is None:
            new.append({"name": name, "region": region})
        else:
            ids[name.lower()] = row.id
            if region and row.region != region:
                moved.append((row.id, {"region": region}))
    created = bulk.insert_rows(session, table, new, returning=True)
    ids.update((row["name"].lower(), team_id) for row, team_id in zip(new, created, strict=True))
    bulk.update_rows(session, table, moved)
    if new:
        result.warnings.append(f"{len(new)} team(s) created")
    return ids


def _save_managers(
    session: Session,
    rows: list,
    managers: dict,
    ids: dict[str, dict[Any, int]],
    has_column: bool,
    result: ImportResult,
    changed: list,
    with_manager: dict[int, int | None],
) -> None:
    if not has_column:
        return
    changed_ids = {rep_id for rep_id, _ in changed}
    updates: list[tuple[int, dict[str, Any]]] = []
    for line, values, _raw in rows:
        manager_id = _manager_id(managers.get(line), ids)
        old = values["_old"]
        if old is not None and old["manager_id"] == manager_id:
            continue
        if old is None and line in with_manager:
            continue  # inserted with it
        updates.append((ids["file"][line], {"manager_id": manager_id}))
        if old is not None and old["id"] not in changed_ids:
            result.unchanged -= 1
            result.updated += 1
            changed_ids.add(old["id"])
    bulk.update_rows(session, Rep.__table__, updates)
