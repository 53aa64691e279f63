"""`salesops --help` stays fast: building the CLI loads none of the heavy libraries.

Each command imports what it needs when it runs (bot/cli/*.py), so the help of the CLI and of
every command comes up without pandas, matplotlib, Bolt or the ORM models.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "pandas",
    "numpy",
    "matplotlib",
    "slack_bolt",
    "slack_sdk",
    "fastapi",
    "uvicorn",
    "apscheduler",
    "pydantic_settings",
    "salesops_core.db.models",
    "bot.deps",
)


def test_building_the_cli_imports_none_of_the_heavy_modules() -> None:
    probe = (
        "import sys\n"
        "from bot.cli.main import app\n"
        "import typer.main\n"
        "typer.main.get_command(app)\n"  # what --help builds: every command and option
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == []
