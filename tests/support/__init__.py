"""Test helpers: fixtures, a local Slack-compatible server, org builders."""
