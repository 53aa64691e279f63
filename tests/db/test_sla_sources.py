"""An `[[sla]]` policy whose source matches no lead is named (doctor, start-up, demo), and the
README's SLA examples use the demo's lead sources."""

from __future__ import annotations

import logging
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.config import SlaPolicy
from salesops_core.db.models import Lead
from salesops_core.demo.leads import LEAD_SOURCES
from salesops_core.leads.views import unmatched_sla_policies

CREATED = datetime(2026, 11, 2, 10, tzinfo=UTC)
README = Path(__file__).resolve().parents[2] / "README.md"
CONFIG = """
[[sla]]
source = "web_demo_request"
first_response_minutes = 5

[[sla]]
source = "*"
first_response_minutes = 60
"""


def add_leads(session: Session, *sources: str) -> None:
    for n, source in enumerate(sources):
        session.add(Lead(external_id=f"L{n}", source=source, created_at=CREATED))
    session.commit()


def test_a_policy_matching_no_lead_source_is_named_with_a_did_you_mean(session: Session) -> None:
    add_leads(session, "demo-request", "content-download", "demo-request")
    policies = [SlaPolicy(source="web_demo_request"), SlaPolicy(source="Content-Download")]
    unmatched = unmatched_sla_policies(session, [*policies, SlaPolicy(source="*")])
    assert [u.source for u in unmatched] == ["web_demo_request"]
    assert unmatched[0].message() == (
        "[[sla]] source 'web_demo_request' matches no lead source in the database "
        "(content-download, demo-request); did you mean 'demo-request'?"
    )


def test_no_warning_without_leads_or_without_a_near_source(session: Session) -> None:
    assert unmatched_sla_policies(session, [SlaPolicy(source="partner")]) == []
    add_leads(session, "chat")
    (far,) = unmatched_sla_policies(session, [SlaPolicy(source="trade show")])
    assert far.suggestion is None and far.message().endswith("(chat).")


def write_config(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "salesops.toml"
    config.write_text(CONFIG)
    return {"SALESOPS_CONFIG": str(config)}


def test_doctor_warns_about_a_policy_that_matches_no_lead(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    add_leads(session, "demo-request", "chat")
    env = {**write_config(tmp_path), "DATABASE_URL": database_url}
    result = CliRunner().invoke(app, ["doctor"], env=env)
    said = " ".join(result.output.split())
    assert result.exit_code == 0, result.output  # a warning, not a failure
    assert (
        "warn sla: [[sla]] source 'web_demo_request' matches no lead source in the database "
        "(chat, demo-request); did you mean 'demo-request'?"
    ) in said


def test_doctor_says_ok_when_every_policy_matches(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    add_leads(session, "web_demo_request")
    env = {**write_config(tmp_path), "DATABASE_URL": database_url}
    result = CliRunner().invoke(app, ["doctor"], env=env)
    assert "ok   sla: every [[sla]] source matches leads in the database" in result.output


def test_the_scheduler_logs_the_warning_when_it_starts(
    session: Session,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import bot.jobs.scheduler

    def stop_here(*args: object, **kwargs: object) -> None:
        raise RuntimeError("stopped before the jobs start")

    monkeypatch.setattr(bot.jobs.scheduler, "start_background", stop_here)
    add_leads(session, "demo-request")
    env = {**write_config(tmp_path), "DATABASE_URL": database_url}
    with caplog.at_level(logging.WARNING):
        result = CliRunner().invoke(app, ["scheduler"], env=env)
    assert isinstance(result.exception, RuntimeError)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'web_demo_request' matches no lead source" in w for w in warnings), warnings


def _readme_sla_sources() -> set[str]:
    sources = set()
    for block in re.findall(r"```toml\n(.*?)```", README.read_text(), flags=re.S):
        if "[[sla]]" in block:
            sources |= {policy["source"] for policy in tomllib.loads(block).get("sla", [])}
    return sources


def test_the_readme_sla_examples_name_the_demos_lead_sources() -> None:
    sources = _readme_sla_sources()
    assert "demo-request" in sources
    assert sources <= {"*", *LEAD_SOURCES}
