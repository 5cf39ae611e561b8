"""The local runtime's asynchronous invocations: how one is recognised, and the record a failure leaves."""

from __future__ import annotations

import re

from werkzeug.datastructures import Headers

from localrt.lambdas import failure_record, invocation_type


def test_the_invocation_type_is_read_from_moto_headers_or_a_plain_dict():
    assert invocation_type(Headers({"X-Amz-Invocation-Type": "Event"})) == "Event"
    assert invocation_type({"x-amz-invocation-type": "Event"}) == "Event"
    assert invocation_type({}) == invocation_type(None) == "RequestResponse"


def test_the_failure_record_has_the_shape_lambda_documents():
    error = {"errorType": "ValueError", "errorMessage": "boom"}
    record = failure_record("arn:aws:lambda:us-east-1:123456789012:function:f", "req-1", {"a": 1}, error, 3)
    assert set(record) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert record["version"] == "1.0" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    assert record["requestContext"] == {
        "requestId": "req-1",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"a": 1} and record["responsePayload"] == error
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
