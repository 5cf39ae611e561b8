"""Vendor credentials from Secrets Manager, through Powertools parameters (cached for a few minutes)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from enrichment.aws import client
from enrichment.errors import BadCredentials
from enrichment.models import Vendor
from enrichment.settings import Settings

CACHE_SECONDS = 300

# botocore logs whole request and response bodies at DEBUG, and a GetSecretValue response body is
# the secret: keep those two loggers above DEBUG even when someone turns debug logging on.
for _name in ("botocore.parsers", "botocore.endpoint"):
    logging.getLogger(_name).setLevel(logging.INFO)


@functools.cache
def _provider(secretsmanager: Any) -> SecretsProvider:
    return SecretsProvider(boto3_client=secretsmanager)


def secret_json(name: str) -> dict[str, str]:
    """A secret holding a JSON object of strings. Its value is never logged or quoted in an error."""
    try:
        value = _provider(client("secretsmanager")).get(name, transform="json", max_age=CACHE_SECONDS)
    except (GetParameterError, TransformParameterError):
        # The provider's message may quote the secret's value when it is not JSON: never pass it on.
        raise BadCredentials(f"secret {name!r} could not be read as a JSON object") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadCredentials(f"secret {name!r} must be a JSON object of strings")
    return value


def vendor_credentials(vendor: Vendor, settings: Settings) -> dict[str, str]:
    """The vendor's secret, such as {"api_key": "..."}."""
    try:
        return secret_json(settings.vendor_secret_name(vendor))
    except BadCredentials as error:
        raise BadCredentials(f"{vendor.value}: credentials not usable: {error}") from None
