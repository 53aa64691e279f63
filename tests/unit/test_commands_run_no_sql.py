"""commands/ asks the core's read functions and runs no SQL of its own.

A command may take a Session and pass it on to salesops_core; it may not build a query
(nothing from sqlalchemy but the Session type) nor run one (`.execute`, `.scalar`, `.scalars`,
`.query`, `.connection` on anything).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMMANDS = Path(__file__).resolve().parents[2] / "commands"
ALLOWED_FROM_SQLALCHEMY = {("sqlalchemy.orm", "Session")}
QUERY_CALLS = {"execute", "scalar", "scalars", "query", "connection"}


def sql_in(source: str) -> list[str]:
    """What in `source` builds or runs SQL, one "line N: ..." entry each."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] == "sqlalchemy"
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [
                f"line {node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if (node.module, alias.name) not in ALLOWED_FROM_SQLALCHEMY
            ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_CALLS
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}(...)")
    return found


def test_the_check_finds_a_query_built_and_run() -> None:
    source = (
        "from sqlalchemy import func, select\n"
        "from sqlalchemy.orm import Session\n"
        "def handle(session: Session) -> int:\n"
        "    return session.scalar(select(func.count()))\n"
    )
    assert sql_in(source) == [
        "line 1: from sqlalchemy import func",
        "line 1: from sqlalchemy import select",
        "line 4: .scalar(...)",
    ]


def test_the_check_lets_a_session_pass_through_to_the_core() -> None:
    source = (
        "from sqlalchemy.orm import Session\n"
        "from salesops_core.kpi.views import scope_numbers\n"
        "def handle(session: Session):\n"
        "    return scope_numbers(session)\n"
    )
    assert sql_in(source) == []


@pytest.mark.parametrize(
    "module", sorted(COMMANDS.rglob("*.py")), ids=lambda p: str(p.relative_to(COMMANDS.parent))
)
def test_command_module_runs_no_sql_of_its_own(module: Path) -> None:
    assert sql_in(module.read_text(encoding="utf-8")) == []
