"""The CRM sources the environment connects (DESIGN.md section 3): Salesforce when
SALESFORCE_INSTANCE_URL is set, HubSpot when HUBSPOT_ACCESS_TOKEN (or its refresh-token
trio) is."""

from __future__ import annotations

from bot.settings import Settings
from salesops_core.errors import ConfigError
from salesops_core.sync.source import Source

SOURCES = ("salesforce", "hubspot")


def configured_sources(settings: Settings) -> list[str]:
    """The CRMs the settings hold credentials for, in SOURCES order."""
    found = []
    if settings.salesforce_instance_url:
        found.append("salesforce")
    if settings.hubspot_access_token or settings.hubspot_refresh_token:
        found.append("hubspot")
    return found


def build_source(settings: Settings, name: str) -> Source:
    """The source for `name`; ConfigError naming the variables to set when it is not set up."""
    if name == "salesforce":
        return _salesforce(settings)
    if name == "hubspot":
        return _hubspot(settings)
    raise ConfigError(f"unknown CRM {name!r}; use one of {', '.join(SOURCES)}")


def _salesforce(settings: Settings) -> Source:
    url = settings.salesforce_instance_url
    token = settings.salesforce_access_token
    client = settings.salesforce_client_id and settings.salesforce_client_secret
    if not url or not (token or client):
        raise ConfigError(
            "Salesforce is not connected: set SALESFORCE_INSTANCE_URL (e.g. "
            "https://acme.my.salesforce.com) and SALESFORCE_ACCESS_TOKEN, or "
            "SALESFORCE_CLIENT_ID + SALESFORCE_CLIENT_SECRET (client-credentials flow)"
        )
    if not url.startswith(("https://", "http://")):
        raise ConfigError(
            f"SALESFORCE_INSTANCE_URL={url!r} is not a URL; use your org's My Domain URL, "
            "e.g. https://acme.my.salesforce.com"
        )
    from salesops_core.sync.salesforce import SalesforceCredentials, SalesforceSource

    credentials = SalesforceCredentials(
        instance_url=url.rstrip("/"),
        access_token=token,
        client_id=settings.salesforce_client_id,
        client_secret=settings.salesforce_client_secret,
        refresh_token=settings.salesforce_refresh_token,
        api_version=settings.sync.salesforce_api_version,
        ca_bundle=settings.requests_ca_bundle or settings.ssl_cert_file,
    )
    return SalesforceSource(credentials, settings.sync.salesforce)


def _hubspot(settings: Settings) -> Source:
    refresh = (
        settings.hubspot_refresh_token
        and settings.hubspot_client_id
        and settings.hubspot_client_secret
    )
    if not (settings.hubspot_access_token or refresh):
        raise ConfigError(
            "HubSpot is not connected: set HUBSPOT_ACCESS_TOKEN (a private app's access token), "
            "or HUBSPOT_CLIENT_ID + HUBSPOT_CLIENT_SECRET + HUBSPOT_REFRESH_TOKEN"
        )
    from salesops_core.sync.hubspot import HubspotCredentials, HubspotSource

    credentials = HubspotCredentials(
        access_token=settings.hubspot_access_token,
        api_url=settings.hubspot_api_url.rstrip("/"),
        client_id=settings.hubspot_client_id,
        client_secret=settings.hubspot_client_secret,
        refresh_token=settings.hubspot_refresh_token,
        ca_bundle=settings.ssl_cert_file or settings.requests_ca_bundle,
    )
    return HubspotSource(credentials, settings.sync.hubspot)
