"""`salesops doctor` shows the nudge settings in force and names an unknown rule."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli.main import app


def doctor(tmp_path: Path, nudges: str):  # type: ignore[no-untyped-def]
    config = tmp_path / "salesops.toml"
    config.write_text(f"[nudges]\n{nudges}\n")
    env = {"SALESOPS_CONFIG": str(config), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    return CliRunner().invoke(app, ["doctor"], env=env)


def test_doctor_shows_the_nudge_settings_in_force(tmp_path: Path) -> None:
    result = doctor(tmp_path, 'rules = ["stale_deal"]\nquiet_hours = "19:00-08:00"')
    said = " ".join(result.output.split())
    assert "ok nudges: rules stale_deal; quiet hours 19:00-08:00" in said
    assert "at most 3 a day each" in said


def test_doctor_names_an_unknown_rule(tmp_path: Path) -> None:
    result = doctor(tmp_path, 'rules = ["stale_deal", "stale_deals"]')
    assert result.exit_code == 1
    assert "unknown rule(s) stale_deals" in " ".join(result.output.split())
