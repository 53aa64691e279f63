"""The one rep finder (and the team and region finders) on a small org."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Team
from salesops_core.errors import AmbiguousRep, RepCandidate, UnknownRep, UnknownTeam
from salesops_core.org.lookup import (
    RepRef,
    find_region,
    find_rep,
    find_team,
    region_named,
    team_named,
)


@pytest.fixture
def reps(session: Session) -> dict[str, Rep]:
    west = Team(name="West", region="Americas")
    session.add(west)
    session.flush()
    people = {
        "jane": Rep(name="Jane Doe", email="Jane.Doe@acme.test", slack_user_id="U0JANE"),
        "john": Rep(name="John Smith", email="john@acme.test", team_id=west.id),
        "joan": Rep(name="Joan Smith", email="joan@acme.test"),
        "gone": Rep(name="Gus Gone", email="gus@acme.test", slack_user_id="U0GUS", active=False),
    }
    session.add_all(people.values())
    session.flush()
    return people


@pytest.mark.parametrize(
    "text",
    [
        "jane.doe@ACME.test",
        " jane.doe@acme.test ",
        "<mailto:jane.doe@acme.test|jane.doe@acme.test>",
        "U0JANE",
        "<@U0JANE|jane>",
        "<@U0JANE>",
        "Jane Doe",
        "jane doe",
        "@jane doe",
        "jane",
        "DOE",
    ],
)
def test_finds_a_rep_by_email_slack_id_mention_mailto_name_or_part_of_it(
    session: Session, reps: dict[str, Rep], text: str
) -> None:
    assert find_rep(session, text) is reps["jane"]


def test_a_name_part_shared_by_several_reps_is_ambiguous_with_the_candidates(
    session: Session, reps: dict[str, Rep]
) -> None:
    with pytest.raises(AmbiguousRep) as error:
        find_rep(session, "smith")
    assert error.value.candidates == (
        RepCandidate(reps["john"].id, "John Smith", "john@acme.test"),
        RepCandidate(reps["joan"].id, "Joan Smith", "joan@acme.test"),
    )
    assert (
        str(error.value) == '"smith" is more than one rep: did you mean John Smith or Joan Smith?'
    )


def test_a_full_name_two_reps_share_is_ambiguous_even_when_exact(
    session: Session, reps: dict[str, Rep]
) -> None:
    twin = Rep(name="Jane Doe", email="jane.other@acme.test")
    session.add(twin)
    session.flush()
    with pytest.raises(AmbiguousRep) as error:
        find_rep(session, "Jane Doe", exact=True)
    assert [c.id for c in error.value.candidates] == [reps["jane"].id, twin.id]
    assert isinstance(error.value, UnknownRep)  # callers that only care "not one rep" still work


def test_exact_refuses_a_part_of_a_name_and_suggests_the_full_one(
    session: Session, reps: dict[str, Rep]
) -> None:
    with pytest.raises(UnknownRep) as error:
        find_rep(session, "Jane Do", exact=True)
    assert not isinstance(error.value, AmbiguousRep)
    assert str(error.value) == "no rep matches 'Jane Do' (did you mean Jane Doe?)"
    assert find_rep(session, "JANE DOE", exact=True) is reps["jane"]


def test_a_rep_who_left_is_found_unless_active_only(session: Session, reps: dict[str, Rep]) -> None:
    assert find_rep(session, "gus@acme.test") is reps["gone"]
    assert find_rep(session, "<@U0GUS>") is reps["gone"]
    with pytest.raises(UnknownRep, match=r"^No rep has the email gus@acme\.test\.$"):
        find_rep(session, "gus@acme.test", active_only=True)
    with pytest.raises(UnknownRep, match=r"^no rep matches 'Gus'$"):
        find_rep(session, "Gus", active_only=True)  # and a rep who left is never suggested


def test_active_only_leaves_a_part_of_a_name_unique_among_active_reps(
    session: Session, reps: dict[str, Rep]
) -> None:
    session.add(Rep(name="Jane Gone", email="jane.gone@acme.test", active=False))
    session.flush()
    with pytest.raises(AmbiguousRep):
        find_rep(session, "jane")
    assert find_rep(session, "jane", active_only=True) is reps["jane"]


def test_unknown_name_suggests_similar_names(session: Session, reps: dict[str, Rep]) -> None:
    with pytest.raises(UnknownRep) as error:
        find_rep(session, "Jnae")
    assert str(error.value) == "no rep matches 'Jnae' (did you mean Jane Doe?)"
    assert error.value.suggestions == ("Jane Doe",)
    with pytest.raises(UnknownRep) as error:
        find_rep(session, "banana")
    assert str(error.value) == "no rep matches 'banana'"


def test_unknown_mention_email_and_empty_text_say_what_is_missing(
    session: Session, reps: dict[str, Rep]
) -> None:
    with pytest.raises(UnknownRep) as mention:
        find_rep(session, "<@U999|someone>")
    assert str(mention.value) == (
        "@someone is not linked to a rep yet: they need to use the bot once, "
        "or ask your sales-ops admin to add them."
    )
    with pytest.raises(UnknownRep, match=r"^No rep has the email zoe@acme\.test\.$"):
        find_rep(session, "<mailto:zoe@acme.test|zoe@acme.test>")
    with pytest.raises(UnknownRep, match=r"^no rep given$"):
        find_rep(session, "  ")


def test_a_mention_matches_the_slack_id_only(session: Session, reps: dict[str, Rep]) -> None:
    session.add(Rep(name="U0BOB", email="bob@acme.test"))
    session.flush()
    with pytest.raises(UnknownRep, match="not linked"):
        find_rep(session, RepRef.slack_user("U0BOB"))
    assert find_rep(session, RepRef.slack_user("U0JANE")) is reps["jane"]


def test_like_wildcards_in_a_name_are_plain_characters(
    session: Session, reps: dict[str, Rep]
) -> None:
    for text in ("J%n", "Jan_"):  # as LIKE patterns: all three J names, and Jane Doe
        with pytest.raises(UnknownRep) as error:
            find_rep(session, text)
        assert not isinstance(error.value, AmbiguousRep)


def test_team_and_region_by_name_in_any_case(session: Session, reps: dict[str, Rep]) -> None:
    assert find_team(session, " west ").name == "West"
    assert team_named(session, "East") is None
    assert find_region(session, "AMERICAS") == "Americas"
    assert region_named(session, "EMEA") is None


def test_unknown_team_and_region_list_the_known_ones(
    session: Session, reps: dict[str, Rep]
) -> None:
    with pytest.raises(
        UnknownTeam, match=r"^no team named 'East' \(did you mean West\?\)\. Known teams: West\.$"
    ):
        find_team(session, "East")
    with pytest.raises(UnknownTeam, match=r"^no region named 'EMEA'\. Known regions: Americas\.$"):
        find_region(session, "EMEA")
