"""The scorecard's sentences, from hand-made calls (no database)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.forecast_scorecard import (
    accuracy_sentence,
    best_case_sentence,
    last_quarter_sentence,
    lean_sentence,
    signed_pct,
    team_sentences,
)
from salesops_core.forecast.accuracy import RepScorecard, TeamScorecard, quarter_call, team_quarters
from salesops_core.periods import quarter_period

QUARTERS = [quarter_period(2026, n, ZoneInfo("UTC")) for n in (1, 2, 3, 4)]


def card(
    *calls: tuple[float | None, float] | tuple[float | None, float, float], name: str = "Ann"
) -> RepScorecard:
    made = tuple(
        quarter_call(QUARTERS[i], c[0], c[2] if len(c) == 3 else None, c[1])
        for i, c in enumerate(calls)
    )
    return RepScorecard(1, name, True, 1, "East", made)


def test_three_under_calls_of_four_read_as_sandbagging_with_their_average_size() -> None:
    ann = card((80, 100), (90, 100), (70, 100), (100, 100))  # -20%, -10%, -30%, 0
    assert lean_sentence(ann) == (
        "Under-called 3 of 4 quarters, by 20% on average: won came in above the commit "
        "(sandbagging)."
    )


def test_both_directions_are_said_and_the_verdict_quotes_the_tables_average_bias() -> None:
    ann = card((80, 100), (90, 100), (110, 100), (70, 100))  # -20%, -10%, +10%, -30%: -12.5%
    assert lean_sentence(ann) == (
        "Under-called 3 of 4 quarters, by 20% on average; over-called 2026-Q3 by 10%. On "
        "balance won came in above the commit (sandbagging): bias -12% on average."
    )


def test_one_big_over_call_that_outweighs_three_small_under_calls_is_no_clear_lean() -> None:
    ann = card((152, 100), (88, 100), (89.2, 100), (92, 100))  # +52%, -12%, -10.8%, -8%
    assert ann.mean_bias is not None and round(ann.mean_bias, 6) == 0.053  # the table's +5.3%
    assert lean_sentence(ann) == (
        "Under-called 3 of 4 quarters, by 10% on average; over-called 2026-Q1 by 52%. "
        "No clear lean: bias +5.3% on average."
    )


def test_a_small_or_single_quarter_lean_is_not_called_sandbagging() -> None:
    assert lean_sentence(card((98, 100), (97, 100))) == (  # -2%, -3%: -2.5%
        "Under-called 2 of 2 quarters, by 2.5% on average: close to the number, no clear lean."
    )
    assert lean_sentence(card((70, 100))) == (
        "Under-called 1 of 1 quarter, by 30%: one quarter is too few to call a lean."
    )


def test_as_many_under_as_over_calls_is_no_clear_lean_and_exact_calls_are_on_the_number() -> None:
    assert lean_sentence(card((80, 100), (120, 100), (130, 100), (70, 100))) == (
        "Under-called 2 of 4 quarters, by 25% on average; over-called 2026-Q2 and 2026-Q3, by 25% "
        "on average. No clear lean: bias 0% on average."
    )
    assert (
        lean_sentence(card((100, 100), (50, 50))) == "On the number (commit = won) in 2 quarters."
    )


def test_the_trend_is_said_only_with_two_quarters_with_a_number() -> None:
    improving = card((70, 100), (80, 100), (90, 100), (100, 100))
    assert accuracy_sentence(improving) == (
        "Accuracy 85% on average, improving: from 70% in 2026-Q1 to 100% in 2026-Q4."
    )
    one = card((None, 100), (90, 100), (None, 0), (None, 10))
    assert accuracy_sentence(one) == "Accuracy 90% on average."
    assert accuracy_sentence(card((None, 100))) == ""


def test_best_case_and_last_quarter_sentences() -> None:
    ann = card((80, 100, 120), (90, 100, 95), (100, 0))
    assert best_case_sentence(ann) == (
        "Won landed between commit and best case in 1 of 2 quarters with a best case."
    )
    assert best_case_sentence(card((80, 100))) == ""
    assert last_quarter_sentence(ann.calls[0]) == (
        "2026-Q1: commit $80, won $100: accuracy 80%, bias -20%."
    )
    assert last_quarter_sentence(ann.calls[2]) == (
        "2026-Q3: commit $100, won $0 (nothing won: no accuracy)."
    )
    assert last_quarter_sentence(card((None, 500)).calls[0]) == (
        "2026-Q1: no commit before the cut-off; won $500."
    )


def test_a_bias_shows_its_sign() -> None:
    assert [signed_pct(v) for v in (0.12, -0.18, 0.0, None)] == ["+12%", "-18%", "0%", "—"]


def test_a_team_says_both_numbers_and_names_who_leans_which_way_biggest_first() -> None:
    reps = (
        card((80, 100), (80, 100), name="Ann"),  # -20%, -20%
        card((90, 100), (94, 100), name="Bea"),  # -10%, -6%: -8%
        card((130, 100), (130, 100), name="Cal"),  # +30%, +30%
        card((98, 100), (97, 100), name="Eve"),  # -2%, -3%: too small a lean to call
        card((70, 100), (130, 100), name="Fay"),  # -30%, +30%: no lean
        card((None, 40), (None, 40), name="Dee"),
    )
    team = TeamScorecard(1, "East", team_quarters(reps), reps)
    # 2026-Q2: commits 80 + 94 + 130 + 97 + 130 = 531 vs won 500: accuracy 1 - 31 / 500 = 93.8%;
    # errors 20, 6, 30, 3, 30: MAPE 89 / 5 = 17.8%
    assert team_sentences(team) == [
        "2026-Q2: team accuracy 93% on the sum of 5 reps' commits ($531 committed, $500 won); "
        "MAPE 17% across 5 reps.",
        "Accuracy on the sum lets one rep's miss cancel another's; MAPE, the mean of each rep's "
        "own error, does not.",
        "Sandbagging (under-called most quarters; average bias): Ann -20%, Bea -8.0%.",
        "Optimistic (over-called most quarters; average bias): Cal +30%.",
        "No commit before the cut-off in any of these quarters: Dee.",
    ]
