"""Settings: environment variables plus the optional salesops.toml, in one typed object."""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from salesops_core.config import DigestConfig, NudgeConfig, OrgConfig, SlaPolicy, SyncConfig
from salesops_core.db.engine import DEFAULT_DATABASE_URL
from salesops_core.errors import ConfigError

DEFAULT_CONFIG_FILE = "salesops.toml"
# The sections a config file may have: each is the Settings field of the same name.
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "org": OrgConfig,
    "sla": SlaPolicy,
    "digest": DigestConfig,
    "nudges": NudgeConfig,
    "sync": SyncConfig,
}
FILE_SECTIONS = tuple(SECTION_MODELS)


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
    sync: SyncConfig = SyncConfig()
    # CRM credentials (DESIGN.md section 3); the refresh-token variables are optional
    salesforce_instance_url: str | None = Field(None, validation_alias="SALESFORCE_INSTANCE_URL")
    salesforce_access_token: str | None = Field(None, validation_alias="SALESFORCE_ACCESS_TOKEN")
    salesforce_client_id: str | None = Field(None, validation_alias="SALESFORCE_CLIENT_ID")
    salesforce_client_secret: str | None = Field(None, validation_alias="SALESFORCE_CLIENT_SECRET")
    salesforce_refresh_token: str | None = Field(None, validation_alias="SALESFORCE_REFRESH_TOKEN")
    hubspot_access_token: str | None = Field(None, validation_alias="HUBSPOT_ACCESS_TOKEN")
    hubspot_api_url: str = Field("https://api.hubapi.com", validation_alias="HUBSPOT_API_URL")
    hubspot_client_id: str | None = Field(None, validation_alias="HUBSPOT_CLIENT_ID")
    hubspot_client_secret: str | None = Field(None, validation_alias="HUBSPOT_CLIENT_SECRET")
    hubspot_refresh_token: str | None = Field(None, validation_alias="HUBSPOT_REFRESH_TOKEN")
    requests_ca_bundle: str | None = Field(None, validation_alias="REQUESTS_CA_BUNDLE")
    ssl_cert_file: str | None = Field(None, validation_alias="SSL_CERT_FILE")
    config_file: str | None = None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", str(exc))
        if found is None:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        what, line, column = found.groups()
        raise ConfigError(
            f"{path}: not valid TOML at line {line}, column {column}: {what[:1].lower()}{what[1:]}"
        ) from None


def _section_label(loc: tuple[int | str, ...]) -> tuple[str, tuple[int | str, ...]]:
    """ "[org]" or "[[sla]] number 2" for an error's location, and the rest of the location."""
    section, *rest = loc
    if section == "sla" and rest and isinstance(rest[0], int):
        return f"[[sla]] number {rest[0] + 1}:", tuple(rest[1:])
    if section in SECTION_MODELS:
        return f"[{section}]", tuple(rest)
    return "", tuple(loc)  # an environment variable


def _shown(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def _near(word: str, known: list[str], label: str, noun: str) -> str:
    """ "; did you mean `x`?" for a near match, else the known names."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {label.format(close[0])}?"
    return f"; its {noun} are {', '.join(known)}"


# What a value must be, by pydantic's error type (their prefix) or exact type.
MUST_BE = {
    "int_": "must be a whole number",
    "float_": "must be a number",
    "bool_": "must be true or false",
    "string_": "must be text in quotes",
    "time_": 'must be a time such as "09:00"',
    "list_": 'must be a list such as ["a", "b"]',
    "dict_": "must be a table",
    "model_": "must be a table",
}
BOUNDS = {
    "greater_than_equal": ("ge", "must be at least"),
    "greater_than": ("gt", "must be above"),
    "less_than_equal": ("le", "must be at most"),
    "less_than": ("lt", "must be below"),
}


def _problem(error: Any) -> str:
    """One validation error in our words, e.g. `[nudges] daily_budget must be a whole number,
    got "three"` or "unknown key `x` in [org]; did you mean `y`?"."""
    label, rest = _section_label(tuple(error["loc"]))
    key = ".".join(str(part) for part in rest)
    kind, context = error["type"], error.get("ctx", {})
    if kind == "extra_forbidden":
        model = SECTION_MODELS.get(str(error["loc"][0]))
        known = list(model.model_fields) if model else []
        where = label.rstrip(":")
        return f"unknown key `{key}` in {where}" + _near(key, known, "`{}`", "keys")
    if kind in ("value_error", "assertion_error"):
        where = " ".join(filter(None, (label.rstrip(":"), key)))
        return f"{where}: {context.get('error', error['msg'])}"
    if label == "[sla]" and kind == "list_type":
        return "write each SLA policy as an [[sla]] table (double brackets), not [sla]"
    must = next((text for prefix, text in MUST_BE.items() if kind.startswith(prefix)), None)
    if kind in BOUNDS:
        bound, words = BOUNDS[kind]
        limit = context[bound]
        must = f"{words} {limit:g}" if isinstance(limit, int | float) else f"{words} {limit}"
    elif kind in ("enum", "literal_error"):
        must = f"must be one of {context.get('expected', '')}"
    if must is None:
        message = str(error["msg"])
        must = message[:1].lower() + message[1:]
    return f"{' '.join(filter(None, (label, key)))} {must}, got {_shown(error['input'])}"


def _describe(exc: ValidationError, source: str) -> str:
    return f"{source}: " + "; ".join(_problem(error) for error in exc.errors())


def load_settings(config_path: str | os.PathLike[str] | None = None) -> Settings:
    """Read environment variables and the config file (SALESOPS_CONFIG or ./salesops.toml)."""
    explicit = config_path or os.environ.get("SALESOPS_CONFIG")
    path = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    if explicit and not path.is_file():
        raise ConfigError(f"config file {path} not found (set by SALESOPS_CONFIG or --config)")
    file_values = _read_toml(path) if path.is_file() else {}
    unknown = sorted(set(file_values) - set(FILE_SECTIONS))
    if unknown:
        raise ConfigError(
            f"{path}: "
            + "; ".join(
                f"unknown section [{name}]" + _near(name, list(FILE_SECTIONS), "[{}]", "sections")
                for name in unknown
            )
        )
    try:
        settings = Settings(**file_values)  # only FILE_SECTIONS, checked above
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(path) if file_values else "environment")) from None
    org = settings.org
    if "timezone" not in file_values.get("org", {}):
        try:
            org = OrgConfig(**{**org.model_dump(), "timezone": settings.default_timezone})
        except ValidationError as exc:
            reasons = (str(e.get("ctx", {}).get("error", e["msg"])) for e in exc.errors())
            raise ConfigError("SALESOPS_TIMEZONE: " + "; ".join(reasons)) from None
    return settings.model_copy(
        update={"org": org, "config_file": str(path) if file_values else None}
    )
