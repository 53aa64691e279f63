"""Checks of the settings against the data that warn rather than refuse (doctor, start-up)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from salesops_core.leads.views import unmatched_sla_policies

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)


def sla_source_warnings(deps: Deps) -> list[str]:
    """One line per `[[sla]]` policy whose source matches no lead in the database."""
    with deps.sessions() as session:
        return [policy.message() for policy in unmatched_sla_policies(session, deps.settings.sla)]


def log_sla_source_warnings(deps: Deps) -> None:
    """Log the SLA source warnings (at the start of `serve`, `socket` and `scheduler`)."""
    for message in sla_source_warnings(deps):
        log.warning(message)
