"""The demo org's `salesops.toml`: its time zone and tiered SLAs on the demo's lead sources."""

from __future__ import annotations

from salesops_core.demo.leads import LEAD_SOURCES

EXAMPLE_CONFIG = """\
# Written by `salesops demo`: the settings the demo org was built with. Edit it for your org
# (every key has a default; README "Configuration" lists them all).
[org]
timezone = "{timezone}"              # the org time zone the demo was built with
fiscal_year_start_month = {fiscal_year_start_month}

# First match by lead source wins; "*" matches any. The demo's lead sources:
# {sources}
[[sla]]
source = "demo-request"
first_response_minutes = 5          # the SLA: a response after this is a breach
remind_rep_after_minutes = 5        # ladder step 1: DM the owner again
alert_manager_after_minutes = 15    # ladder step 2: DM the owner's manager
reassign_after_minutes = 30         # ladder step 3: hand the lead on; omit to never reassign
business_hours = true               # count only the owner's working hours

[[sla]]
source = "*"
first_response_minutes = 60
remind_rep_after_minutes = 60
alert_manager_after_minutes = 120
business_hours = true
"""


def example_config(timezone: str, fiscal_year_start_month: int) -> str:
    """The demo's config file text for the org time zone and fiscal year it was built with."""
    return EXAMPLE_CONFIG.format(
        timezone=timezone,
        fiscal_year_start_month=fiscal_year_start_month,
        sources=", ".join(LEAD_SOURCES),
    )
