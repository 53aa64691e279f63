"""What every nudge rule is given: thresholds, the org, the moment, the people, the scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from salesops_core.config import NudgeConfig, OrgConfig
from salesops_core.nudges.people import Person
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period, quarter_containing


@dataclass(frozen=True)
class Context:
    """What every rule needs: thresholds, the org, the moment, the people and their scope."""

    config: NudgeConfig
    org: OrgConfig
    now: datetime
    people: Mapping[int, Person]
    scope: Scope  # the org, or the one person evaluated
    # deal subjects each person's stale_deal nudges named earlier on their local day
    named_today: Mapping[int, frozenset[str]] = field(default_factory=dict)

    @property
    def quarter(self) -> Period:
        return quarter_containing(
            self.now.astimezone(self.org.tz).date(), self.org.tz, self.org.fiscal_year_start_month
        )
