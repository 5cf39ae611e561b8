"""API Gateway's IAM auth for the local API: who signed a request (SigV4), as `requestContext.identity` says.

In AWS, API Gateway finds the caller by the access key id in the request's Authorization header, checks the
signature with that key's secret, and names the caller in the event: `user` (the principal id), `userArn`,
`caller`, `accountId`, `accessKey`. Here the access key id is looked up in moto's IAM and STS, as moto's own
`sts:GetCallerIdentity` does: an IAM user's key (`iam.create_access_key`) or a role session's credentials
(`sts.assume_role`). For those the signature, the session token, the session's expiry and the request's age are
checked as API Gateway checks them, with the same 403 answers.

A key moto does not know (the local runtime's own `local` credentials, a developer's real ones) is moto's
default caller, `arn:aws:sts::<account>:user/moto`, as moto's STS answers for it; its signature cannot be
checked (there is no secret to check it with). A request that is not signed at all is refused, as API Gateway
refuses it: 403 "Missing Authentication Token".
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.core.utils import utcnow
from moto.sts.models import sts_backends

from localrt.deploy import ACCOUNT

SERVICE = "execute-api"
MAX_SKEW = dt.timedelta(minutes=15)  # API Gateway refuses a signature older (or newer) than this
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[!#$%&'*+.^_`|~0-9a-z;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


class Refused(Exception):
    """API Gateway's 403 for a request its IAM auth refuses; the message is the body's `message`."""


@dataclass(frozen=True)
class Principal:
    """A caller as moto knows it: its principal id, ARN and account, and the secret its key signs with."""

    user_id: str
    arn: str
    account_id: str
    secret: str | None = None  # None: moto does not know the key (its default caller)
    session_token: str | None = None
    expires: dt.datetime | None = None


def principal_of(access_key_id: str) -> Principal:
    """The principal an access key id belongs to, looked up as moto's sts:GetCallerIdentity does."""
    sts = sts_backends[ACCOUNT]["aws"]
    session = sts.get_assumed_role_from_access_key(access_key_id)
    if session is not None:
        return Principal(
            session.user_id,
            session.arn,
            session.account_id,
            session.secret_access_key,
            session.session_token,
            session.expiration,
        )
    user_id, arn, account_id = sts.get_caller_identity(access_key_id, "us-east-1")
    from moto.iam.models import iam_backends

    user = iam_backends[account_id]["aws"].get_user_from_access_key_id(access_key_id)
    if user is None:
        return Principal(user_id, arn, account_id)
    key = next(k for k in user.access_keys if k.access_key_id == access_key_id)
    if key.status != "Active":
        raise Refused("The security token included in the request is invalid.")
    return Principal(user_id, arn, account_id, key.secret_access_key)


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _expected_signature(
    method: str, url: str, headers: dict[str, str], body: bytes, signed: list[str], credential: Any, match: Any
) -> str:
    """The signature botocore computes for the request as received, over the headers the caller signed."""
    request = AWSRequest(
        method=method, url=url, data=body, headers={k: v for k, v in headers.items() if k.lower() in signed}
    )
    auth = SigV4Auth(credential, match["service"], match["region"])
    request.context["timestamp"] = _header(headers, "x-amz-date")
    return auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)


def identify(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """`requestContext.identity` for a signed request (its caller as API Gateway names it); Refused if IAM auth
    would refuse it."""
    authorization = _header(headers, "authorization")
    if not authorization:
        raise Refused("Missing Authentication Token")
    match = _AUTHORIZATION.match(authorization.strip())
    if match is None or match["service"] != SERVICE:
        raise Refused(f"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' for {SERVICE}")
    signed = match["signed"].split(";")
    stamp = _header(headers, "x-amz-date")
    if not stamp or "x-amz-date" not in signed or "host" not in signed:
        raise Refused("Authorization header requires the signed headers host and x-amz-date")
    try:
        when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise Refused("Date must be in ISO-8601 'basic format'") from None
    if abs(dt.datetime.now(dt.UTC) - when) > MAX_SKEW:
        raise Refused("Signature expired: the request's X-Amz-Date is more than 15 minutes from now")
    principal = principal_of(match["key"])
    token = _header(headers, "x-amz-security-token")
    if principal.secret is not None:
        if principal.session_token is not None:
            if token != principal.session_token:
                raise Refused("The security token included in the request is invalid.")
            if principal.expires is not None and principal.expires < utcnow():
                raise Refused("The security token included in the request is expired")
        credential = Credentials(match["key"], principal.secret, token)
        url = f"http://{_header(headers, 'host')}{raw_path}"  # as sent: the path signed is the path received
        expected = _expected_signature(method, url, headers, body, signed, credential, match)
        if not hmac.compare_digest(expected, match["signature"]):
            raise Refused(
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                "Secret Access Key and signing method. Consult the service documentation for details."
            )
    return {
        "user": principal.user_id,
        "userArn": principal.arn,
        "caller": principal.user_id,
        "accountId": principal.account_id,
        "accessKey": match["key"],
    }
