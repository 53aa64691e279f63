"""`salesops forecast backtest`, `forecast show` and `explain forecast` on the hand-made history
of tests/support/forecast_history.py (every number there is worked out by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from tests.support.forecast_history import build


@pytest.fixture
def history(
    sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history, and a working directory without a salesops.toml (org time zone UTC)."""
    with sessions.begin() as session:
        build(session)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)


def run(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": database_url, "SALESOPS_TIMEZONE": "UTC"}
    return CliRunner().invoke(app, list(args), env=env)


def test_backtest_json_has_each_method_its_error_and_the_range(
    history: None, database_url: str
) -> None:
    result = run(
        database_url, "forecast", "backtest", "--periods", "1", "--now", "2026-04-15",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["periods"] == [
        {
            "period": "2026-Q1",
            "start": "2026-01-01T00:00:00+00:00",
            "end": "2026-04-01T00:00:00+00:00",
            "actual_won": 3000.0,
            "submitted": 2400.0,
            "weighted_pipeline": 5000.0,
            "run_rate": 3000.0,
            "model": {"p10": 1000.0, "p50": 3000.0, "p90": 5000.0},
            "errors": {
                "submitted": pytest.approx(0.2),
                "weighted_pipeline": pytest.approx(2 / 3),
                "run_rate": 0.0,
                "model": 0.0,
            },
            "inside_range": True,
        }
    ]
    assert body["summary"]["mape"] == {
        "submitted": pytest.approx(0.2),
        "weighted_pipeline": pytest.approx(2 / 3),
        "run_rate": 0.0,
        "model": 0.0,
    }
    assert body["summary"]["coverage"] == 1.0
    assert body["summary"]["periods"] == 1


def test_backtest_of_a_rep_without_deals_has_null_errors(history: None, database_url: str) -> None:
    result = run(
        database_url, "forecast", "backtest", "--periods", "1", "--now", "2026-04-15",
        "--rep", "bob@example.com", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["periods"]
    assert row["actual_won"] == 0.0 and row["submitted"] is None
    assert row["errors"] == dict.fromkeys(row["errors"])  # A = 0: every error undefined


def test_backtest_table_names_each_method_and_the_coverage(
    history: None, database_url: str
) -> None:
    result = run(
        database_url, "forecast", "backtest", "--periods", "1", "--now", "2026-04-15",
        "--team", "East",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "2026-Q1" in text and "$3,000" in text and "$5,000" in text
    assert "Weighted pipeline: MAPE 66%" in text  # 2/3, truncated as every percentage
    assert "Model P50: MAPE 0%" in text
    assert "actual inside P10-P90: 1 of 1 periods" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--periods", "0"), "--periods 0: give at least 1"),
        (("--periods", "2", "--every", "week"), "--every 'week': use quarter or month"),
        (("--periods", "1", "--rep", "nobody@example.com"), "nobody@example.com"),
    ],
)
def test_bad_input_is_one_line(
    history: None, database_url: str, args: tuple[str, ...], message: str
) -> None:
    result = run(database_url, "forecast", "backtest", "--now", "2026-04-15", *args)
    error = str(result.exception) if result.exception else result.stderr
    assert result.exit_code != 0
    assert message in error and "\n" not in error


def test_show_json_has_the_model_and_the_baselines(history: None, database_url: str) -> None:
    result = run(
        database_url, "forecast", "show", "--period", "2026-Q1", "--now", "2026-01-01",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["period"] == "2026-Q1" and body["scope"]["kind"] == "org"
    assert body["won_so_far"] == 0.0
    assert body["submitted"] == 2400.0
    assert body["weighted_pipeline"] == 5000.0 and body["run_rate"] == 3000.0
    assert body["model"]["expected"] == pytest.approx(3000.0)
    assert (body["model"]["p10"], body["model"]["p50"], body["model"]["p90"]) == (
        1000.0,
        3000.0,
        5000.0,
    )
    assert body["per_rep"] == [{"rep": "Ann Archer", "expected": pytest.approx(3000.0)}]


def test_explain_forecast_gives_each_deals_probability_and_its_basis(
    history: None, database_url: str
) -> None:
    result = run(
        database_url, "explain", "forecast", "--period", "2026-Q1", "--now", "2026-01-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "2026-Q1-0" in text and "Ann Archer" in text and "Negotiate" in text
    assert "Negotiate, <14 days in stage, amounts $1,000 and over: 12 of 40 won" in text
    assert "30%" in text
    assert "new business" in text.lower()
