"""People and teams as users type them, resolved by the one finder for Slack and the CLI alike.

Runs on the demo org's people (tests/support/demo_people.py): partial team names, handles,
first names, typos, and the access answer when a rep asks about someone they may not see.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from commands.base import run_command
from commands.kit.args import parse_args
from salesops_core.db.models import Rep, Team
from salesops_core.errors import AmbiguousRep, BadArguments, NotAllowed, UnknownTeam
from salesops_core.org.lookup import find_rep, find_team
from tests.support.command_org import context
from tests.support.demo_people import DemoPeople, load_demo_people

USAGE = " Usage: `/kpi [period] [@rep | team] [share]`."
OLIVIAS = "did you mean Olivia Hughes, Olivia Khan or Olivia Laurent?"


@pytest.fixture
def people(session: Session) -> DemoPeople:
    return load_demo_people(session)


def scope_of(session: Session, people: DemoPeople, text: str) -> tuple[str, str]:
    scope = parse_args(session, people.admin, "/kpi", text, context()).scope
    return scope.kind, scope.name


@pytest.mark.parametrize(
    ("text", "team"),
    [("west", "NA West"), ("West", "NA West"), ("na west", "NA West"), ("east", "NA East"),
     ("NA EAST", "NA East"), ("emea", "EMEA")],
)  # fmt: skip
def test_a_unique_part_of_a_team_name_in_any_case_is_that_team(
    session: Session, people: DemoPeople, text: str, team: str
) -> None:
    assert scope_of(session, people, text) == ("team", team)
    assert find_team(session, text).name == team  # what `salesops kpi --team` asks


def test_a_part_several_teams_share_asks_which_one(session: Session, people: DemoPeople) -> None:
    session.add(Team(name="EMEA West", region="EMEA"))
    session.commit()
    with pytest.raises(BadArguments) as error:
        parse_args(session, people.admin, "/kpi", "west", context())
    assert str(error.value).startswith(
        '"west" is more than one team: did you mean EMEA West or NA West?' + USAGE
    )
    with pytest.raises(UnknownTeam, match=r"^\"west\" is more than one team: did you mean EMEA"):
        find_team(session, "west")


def test_a_word_a_team_and_a_rep_share_asks_which_one_and_a_region_word_is_the_region(
    session: Session, people: DemoPeople
) -> None:
    session.add(Rep(name="Adam West", email="adam.west@example.com"))
    session.commit()
    with pytest.raises(BadArguments) as error:
        parse_args(session, people.admin, "/kpi", "west", context())
    assert str(error.value).startswith(
        '"west" is more than one team or rep: did you mean NA West or Adam West?' + USAGE
    )
    assert scope_of(session, people, "america") == ("region", "North America")
    assert scope_of(session, people, "EMEA") == ("team", "EMEA")  # the team, not its region


@pytest.mark.parametrize(
    ("text", "email"),
    [("@ines.dubois", "ines.dubois@example.com"), ("ines.dubois", "ines.dubois@example.com"),
     ("olivia.khan", "olivia.khan@example.com"), ("@Olivia.Khan", "olivia.khan@example.com"),
     ("<@U0DEMO013|ines>", "ines.dubois@example.com"), ("Ines", "ines.dubois@example.com"),
     ("dubois", "ines.dubois@example.com"), ("julia.mueller", "julia.mueller@example.com"),
     ("julia muller", "julia.mueller@example.com"), ("sara.jensen2", "sara.jensen2@example.com")],
)  # fmt: skip
def test_handles_first_names_and_mentions_find_the_rep(
    session: Session, people: DemoPeople, text: str, email: str
) -> None:
    rep = find_rep(session, text)  # what `salesops kpi --rep` asks
    assert rep.email == email
    assert scope_of(session, people, text) == ("rep", rep.name)


def test_a_first_name_several_reps_share_asks_which_one(
    session: Session, people: DemoPeople
) -> None:
    with pytest.raises(BadArguments) as error:
        parse_args(session, people.admin, "/kpi", "Olivia", context())
    assert str(error.value).startswith(f'"Olivia" is more than one rep: {OLIVIAS}{USAGE}')
    with pytest.raises(AmbiguousRep) as ambiguous:
        find_rep(session, "olivia")
    assert str(ambiguous.value) == f'"olivia" is more than one rep: {OLIVIAS}'


def test_a_whole_first_name_beats_a_part_of_another_name(
    session: Session, people: DemoPeople
) -> None:
    session.add(Rep(name="Ravi Inesco", email="ravi.inesco@example.com"))
    session.commit()
    assert find_rep(session, "Ines").email == "ines.dubois@example.com"


def test_reps_sharing_a_name_are_told_apart_by_email(session: Session, people: DemoPeople) -> None:
    session.add(Rep(name="Ines Dubois", email="ines.d@example.org"))
    session.commit()
    with pytest.raises(AmbiguousRep) as error:
        find_rep(session, "Ines Dubois")
    assert str(error.value) == (
        '"Ines Dubois" is more than one rep: did you mean Ines Dubois (ines.dubois@example.com) '
        "or Ines Dubois (ines.d@example.org)?"
    )


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("Ines Dubios", "Ines Dubois"), ("olivia.kahn", "Olivia Khan"), ("Wset", "NA West")],
)
def test_a_typo_suggests_what_it_looks_like(
    session: Session, people: DemoPeople, text: str, suggestion: str
) -> None:
    with pytest.raises(BadArguments) as error:
        parse_args(session, people.admin, "/kpi", text, context())
    assert str(error.value).startswith(
        f'I don\'t understand "{text}": it is not a period, team or rep I know. '
        f"Did you mean {suggestion}?"
    )


@pytest.mark.parametrize("text", ["@sara.jensen", "sara.jensen", "Freya Moreau", "freya.moreau"])
def test_a_rep_asking_about_a_manager_gets_the_access_answer(
    session: Session, people: DemoPeople, text: str
) -> None:
    with pytest.raises(NotAllowed, match=r"^Sorry, you can only see your own numbers, not "):
        run_command(session, people.ines, "/kpi", text, context())


def test_a_first_name_the_rep_may_see_nobody_of_gets_the_access_answer(
    session: Session, people: DemoPeople
) -> None:
    with pytest.raises(NotAllowed, match=r"^Sorry, you can only see your own numbers, not Sara's"):
        run_command(session, people.ines, "/kpi", "Sara", context())  # Sara Jensen (II)
    with pytest.raises(BadArguments, match=r'^"Olivia" is more than one rep: did you mean '):
        run_command(session, people.east_manager, "/kpi", "Olivia", context())  # two on NA East


def test_a_manager_asking_about_another_teams_rep_gets_the_access_answer(
    session: Session, people: DemoPeople
) -> None:
    with pytest.raises(NotAllowed, match=r"^Sorry, Ines Dubois is not on your team"):
        run_command(session, people.east_manager, "/kpi", "@ines.dubois", context())


def _cli(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"DATABASE_URL": database_url, "COLUMNS": "200"})


def test_the_cli_and_slack_resolve_the_same_names_the_same_way(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    with sessions() as session:
        load_demo_people(session)
    now = "2026-11-16T12:00:00"
    for flag, text, expected in (("--team", "west", "NA West"),
                                 ("--rep", "@ines.dubois", "Ines Dubois"),
                                 ("--rep", "olivia.khan", "Olivia Khan")):  # fmt: skip
        result = _cli(database_url, "kpi", flag, text, "--format", "json", "--now", now)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["scope"]["name"] == expected
        asked = _cli(database_url, "ask", f"/kpi {text}", "--as", "olivia.hughes@example.com",
                     "--no-charts", "--now", now)  # fmt: skip
        assert asked.exit_code == 0, asked.output
        assert f"{expected}: KPIs" in asked.output
    cli = _cli(database_url, "kpi", "--rep", "Olivia", "--now", now)
    slack = _cli(database_url, "ask", "/kpi Olivia", "--as", "olivia.hughes@example.com",
                 "--now", now)  # fmt: skip
    for result in (cli, slack):  # `salesops` (bot.cli.main.main) prints the error's one line
        assert result.exit_code != 0 and OLIVIAS in str(result.exception), result.output


def test_the_parser_reads_bare_quarters_and_to_date_words_and_suggests_for_typos(
    session: Session, people: DemoPeople
) -> None:
    args = parse_args(session, people.admin, "/kpi", "Q3 west", context())
    assert (args.period.label, args.scope.name) == ("Q3 (2026-Q3)", "NA West")
    assert parse_args(session, people.admin, "/kpi", "ytd", context()).period.label == "ytd (2026)"
    with pytest.raises(BadArguments) as error:
        parse_args(session, people.admin, "/kpi", "last-quater olivia.khan", context())
    assert str(error.value).startswith(
        "unknown period `last-quater`; did you mean `last-quarter`?" + USAGE
    )


def test_the_cli_suggests_the_same_period(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    result = _cli(database_url, "kpi", "--period", "last-quater")
    assert result.exit_code != 0
    assert str(result.exception) == "unknown period `last-quater`; did you mean `last-quarter`?"
