"""Managers in a reps file: chains and cycles in one file, and `--create-missing` creating the
managers that are named only in the manager column."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from salesops_core.db.models import Rep, Role, Team
from salesops_core.importers.report import ImportFailed
from tests.support.import_helpers import run_import, write


def placement(sessions: sessionmaker[Session]) -> dict[str, tuple[Role, str | None, str | None]]:
    """{rep name: (role, team, manager name)}."""
    manager = aliased(Rep)
    with sessions() as session:
        rows = session.execute(
            select(Rep.name, Rep.role, Team.name, manager.name)
            .outerjoin(Team, Rep.team_id == Team.id)
            .outerjoin(manager, Rep.manager_id == manager.id)
        ).all()
    return {name: (role, team, boss) for name, role, team, boss in rows}


def test_a_created_manager_joins_the_team_most_of_their_reps_name(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    text = (
        "name,team,manager,region\n"
        "Ann,East,Mia Boss,AMER\n"
        "Bob,East,Mia Boss,AMER\n"
        "Cy,West,Mia Boss,AMER\n"
        "Dee,,Mia Boss,AMER\n"
    )
    result = run_import(sessions, write(tmp_path, "reps.csv", text), "reps", create_missing=True)
    assert result.warnings == [
        "2 team(s) created",
        "1 manager(s) created (--create-missing): Mia Boss",
    ]
    assert placement(sessions) == {
        "Mia Boss": (Role.MANAGER, "East", None),
        "Ann": (Role.REP, "East", "Mia Boss"),
        "Bob": (Role.REP, "East", "Mia Boss"),
        "Cy": (Role.REP, "West", "Mia Boss"),
        "Dee": (Role.REP, None, "Mia Boss"),
    }


def test_a_manager_named_by_email_is_created_with_that_email_and_a_readable_name(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    text = "name,manager\nAnn,mia.boss@acme.test\nBob,MIA.BOSS@acme.test\n"
    run_import(sessions, write(tmp_path, "reps.csv", text), "reps", create_missing=True)
    with sessions() as session:
        boss = session.scalars(select(Rep).where(Rep.role == Role.MANAGER)).one()
        assert (boss.name, boss.email) == ("Mia Boss", "mia.boss@acme.test")
        assert boss.team is not None and boss.team.name == "Team Mia Boss"
        reports = session.scalars(select(Rep.name).where(Rep.manager_id == boss.id)).all()
    assert sorted(reports) == ["Ann", "Bob"]


def test_managers_listed_after_their_reps_and_in_a_cycle_are_all_linked(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    text = "name,manager\nDee,Cy\nCy,Bob\nBob,Ann\nAnn,\nEve,Fay\nFay,Eve\n"
    result = run_import(sessions, write(tmp_path, "reps.csv", text), "reps")
    assert (result.created, result.updated) == (6, 0)
    assert {name: boss for name, (_role, _team, boss) in placement(sessions).items()} == {
        "Dee": "Cy",
        "Cy": "Bob",
        "Bob": "Ann",
        "Ann": None,
        "Eve": "Fay",
        "Fay": "Eve",
    }
    again = run_import(sessions, write(tmp_path, "reps.csv", text), "reps")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_a_stored_rep_keeps_their_team_when_a_created_manager_gets_a_team_of_their_own(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    run_import(sessions, write(tmp_path, "reps.csv", "name,team\nAnn,East\n"), "reps")
    text = "name,manager\nAnn,Mia Boss\nBob,Mia Boss\n"
    run_import(sessions, write(tmp_path, "agents.csv", text), "reps", create_missing=True)
    assert placement(sessions) == {
        "Mia Boss": (Role.MANAGER, "Team Mia Boss", None),
        "Ann": (Role.REP, "East", "Mia Boss"),
        "Bob": (Role.REP, "Team Mia Boss", "Mia Boss"),
    }


def test_reps_cells_longer_than_their_column_or_with_control_characters_are_row_errors(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    long_boss, long_team = "B" * 196, "T" * 201
    text = f"name,team,manager\nAnn\x00,East,\nBob,{long_team},\nCy,,{long_boss}\n"
    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, write(tmp_path, "reps.csv", text), "reps", create_missing=True)
    assert [(e.line, e.column, e.reason) for e in failed.value.errors] == [
        (2, "name", "name contains a control character (U+0000); remove it"),
        (3, "team", "team is 201 characters long; at most 200 fit"),
        (4, "manager", "the created manager's team is 201 characters long; at most 200 fit"),
    ]
    assert placement(sessions) == {}


def test_a_created_managers_team_is_counted_ignoring_case(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    text = "name,team,manager\nAnn,West,Mia Boss\nBob,East,Mia Boss\nCy,east,Mia Boss\n"
    run_import(sessions, write(tmp_path, "reps.csv", text), "reps", create_missing=True)
    assert placement(sessions)["Mia Boss"] == (Role.MANAGER, "East", None)
