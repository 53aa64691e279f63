"""Accountability nudges: rules over the whole org, noise control, the nudge log. No Slack."""
