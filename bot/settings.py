"""Settings: environment variables plus the optional salesops.toml, in one typed object."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from salesops_core.config import DigestConfig, NudgeConfig, OrgConfig, SlaPolicy
from salesops_core.db.engine import DEFAULT_DATABASE_URL
from salesops_core.errors import ConfigError

DEFAULT_CONFIG_FILE = "salesops.toml"
# The sections a config file may have: each is the Settings field of the same name.
FILE_SECTIONS = ("org", "sla", "digest", "nudges")


class Settings(BaseSettings):
    """Everything the process needs to know, validated at start."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    ingest_token: str | None = Field(None, validation_alias="SALESOPS_INGEST_TOKEN")
    # Who may read /metrics and the OpenAPI pages besides loopback clients (bot.guards).
    metrics_public: bool = Field(False, validation_alias="SALESOPS_METRICS_PUBLIC")
    metrics_token: str | None = Field(None, validation_alias="SALESOPS_METRICS_TOKEN")
    api_docs_public: bool = Field(False, validation_alias="SALESOPS_API_DOCS_PUBLIC")
    default_timezone: str = Field(
        "UTC", validation_alias=AliasChoices("SALESOPS_TIMEZONE", "default_timezone")
    )
    # Processes that draw slash-command charts (bot.chart_pool); 0: draw in worker threads.
    chart_processes: int | None = Field(None, ge=0, validation_alias="SALESOPS_CHART_PROCESSES")

    org: OrgConfig = OrgConfig()
    sla: list[SlaPolicy] = Field(default_factory=lambda: [SlaPolicy()])
    digest: DigestConfig = DigestConfig()
    nudges: NudgeConfig = NudgeConfig()
    config_file: str | None = None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _describe(exc: ValidationError, source: str) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        problems.append(f"{key}: {error['msg']}")
    return f"{source}: " + "; ".join(problems)


def load_settings(config_path: str | os.PathLike[str] | None = None) -> Settings:
    """Read environment variables and the config file (SALESOPS_CONFIG or ./salesops.toml)."""
    explicit = config_path or os.environ.get("SALESOPS_CONFIG")
    path = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    if explicit and not path.is_file():
        raise ConfigError(f"config file {path} not found (set by SALESOPS_CONFIG or --config)")
    file_values = _read_toml(path) if path.is_file() else {}
    unknown = set(file_values) - set(FILE_SECTIONS)
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    try:
        settings = Settings(**file_values)  # only FILE_SECTIONS, checked above
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(path) if file_values else "environment")) from None
    org = settings.org
    if "timezone" not in file_values.get("org", {}):
        try:
            org = OrgConfig(**{**org.model_dump(), "timezone": settings.default_timezone})
        except ValidationError as exc:
            raise ConfigError(_describe(exc, "SALESOPS_TIMEZONE")) from None
    return settings.model_copy(
        update={"org": org, "config_file": str(path) if file_values else None}
    )
