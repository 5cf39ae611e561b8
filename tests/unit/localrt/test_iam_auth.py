"""The local API's IAM auth (localrt/iam_auth.py) takes every request API Gateway would: any header a caller signs."""

from __future__ import annotations

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localrt import iam_auth
from tests.conftest import moto_in_process, unique_name

URL = "http://127.0.0.1:3000/v1/jobs"


def signed_headers(credentials, headers: dict[str, str]) -> dict[str, str]:
    request = AWSRequest(method="POST", url=URL, data=b"{}", headers=headers)
    SigV4Auth(credentials, iam_auth.SERVICE, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_a_signed_header_named_with_any_token_character_is_verified_not_refused():
    with moto_in_process():
        iam = boto3.client("iam", region_name="us-east-1")
        name = unique_name("signer")
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        try:
            credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
            # RFC 9110 token characters: a header name may hold ! # $ % & ' * + . ^ _ ` | ~
            headers = signed_headers(credentials, {"Host": "127.0.0.1:3000", "!odd&name": "", "X-Plain": "1"})
            identity = iam_auth.identify("POST", "/v1/jobs", headers, b"{}")
            assert identity["userArn"].endswith(f":user/{name}")

            headers["X-Plain"] = "2"  # a signed header changed on the way: refused
            try:
                iam_auth.identify("POST", "/v1/jobs", headers, b"{}")
            except iam_auth.Refused as refused:
                assert "signature we calculated does not match" in str(refused)
            else:
                raise AssertionError("a tampered signed header was accepted")
        finally:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName=name)
