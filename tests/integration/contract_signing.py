"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.integration.contract_signing): every request it sends is
SigV4-signed, as API Gateway's IAM auth requires of every route, over the request exactly as it goes out."""

from __future__ import annotations

from typing import Any

import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from client.api import LOCAL_CREDENTIALS
from localrt.deploy import REGION


class SigV4(requests.auth.AuthBase):
    """Signs the prepared request (its final URL, headers and body) as the local runtime's own caller."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "connection"}
        signed = AWSRequest(method=request.method, url=request.url, data=request.body or b"", headers=headers)
        SigV4Auth(Credentials(*LOCAL_CREDENTIALS), "execute-api", REGION).add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    kwargs["auth"] = SigV4()
