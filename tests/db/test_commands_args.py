"""Slash-command arguments: periods, @mentions, names, emails, teams, share, help, bad words."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.args import parse_args, tokenize
from salesops_core.errors import BadArguments, UnknownRep
from tests.support.command_org import Org, build_org, context


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


def test_no_arguments_means_my_numbers_this_quarter(session: Session, org: Org) -> None:
    args = parse_args(session, org.jane, "/kpi", "", context())
    assert (args.scope.kind, args.scope.key) == ("rep", org.jane.rep_id)
    assert args.period.label == "this-quarter (2026-Q4)"
    assert not args.share and not args.explicit_scope


def test_period_word_and_share_in_any_order(session: Session, org: Org) -> None:
    args = parse_args(session, org.jane, "/kpi", "share last-quarter", context())
    assert args.period.label == "last-quarter (2026-Q3)"
    assert args.share


def test_slack_mention_resolves_by_stored_slack_id(session: Session, org: Org) -> None:
    args = parse_args(session, org.manager, "/kpi", "<@U0JANE|jane> 2026-Q3", context())
    assert (args.scope.kind, args.scope.key, args.period.label) == (
        "rep",
        org.jane.rep_id,
        "2026-Q3",
    )


def test_rep_by_email_mailto_full_name_and_first_name(session: Session, org: Org) -> None:
    ctx = context()
    for text in ("jane@example.com", "<mailto:jane@example.com|jane@example.com>",
                 "Jane Doe", '"jane doe" this-month', "jane"):  # fmt: skip
        assert parse_args(session, org.manager, "/kpi", text, ctx).scope.key == org.jane.rep_id


def test_team_name_region_name_and_own_team_word(session: Session, org: Org) -> None:
    ctx = context()
    assert parse_args(session, org.admin, "/kpi", "east", ctx).scope.name == "East"
    assert parse_args(session, org.admin, "/kpi", "EMEA", ctx).scope.kind == "region"
    own = parse_args(session, org.manager, "/kpi", "team", ctx).scope
    assert (own.kind, own.name) == ("team", "West")


def test_unknown_word_names_the_word_and_shows_an_example(session: Session, org: Org) -> None:
    with pytest.raises(BadArguments) as error:
        run_command(session, org.jane, "/kpi", "last-quarter banana", context())
    assert str(error.value) == (
        'I don\'t understand "banana": it is not a period, team or rep I know. '
        "Usage: `/kpi [period] [@rep | team] [share]`. Example: `/kpi last-quarter`"
    )


def test_bad_period_shape_is_a_bad_argument_listing_the_forms(session: Session, org: Org) -> None:
    with pytest.raises(BadArguments) as error:
        run_command(session, org.jane, "/pipeline", "2026-13", context())
    assert str(error.value).startswith("'2026-13' is not a valid date or period. Use this-week")
    assert str(error.value).endswith("Example: `/pipeline this-quarter`")


def test_two_periods_are_refused(session: Session, org: Org) -> None:
    with pytest.raises(BadArguments, match='Give one period, not both "this-month" and "2026-Q3"'):
        parse_args(session, org.jane, "/kpi", "this-month 2026-Q3", context())


def test_unlinked_mention_says_who_to_ask(session: Session, org: Org) -> None:
    with pytest.raises(UnknownRep, match="@someone is not linked to a rep yet"):
        parse_args(session, org.admin, "/kpi", "<@U999|someone>", context())


def test_unbalanced_quote_falls_back_to_plain_words() -> None:
    assert tokenize('"jane doe') == ['"jane', "doe"]


def test_a_name_several_reps_share_names_them_and_asks_for_a_mention(
    session: Session, org: Org
) -> None:
    with pytest.raises(BadArguments) as error:
        parse_args(session, org.admin, "/kpi", "an", context())
    assert str(error.value) == (
        '"an" is more than one rep: did you mean Mia Manager or Jane Doe? '
        "Usage: `/kpi [period] [@rep | team] [share]`. Example: `/kpi last-quarter`"
    )


def test_a_misspelt_name_suggests_the_rep_it_looks_like(session: Session, org: Org) -> None:
    with pytest.raises(BadArguments) as error:
        parse_args(session, org.manager, "/kpi", "Jnae", context())
    assert str(error.value).startswith(
        'I don\'t understand "Jnae": it is not a period, team or rep I know. '
        "Did you mean Jane Doe? Usage: "
    )
