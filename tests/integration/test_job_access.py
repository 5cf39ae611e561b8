"""Who may see a job, through the local API as API Gateway's IAM auth serves it: each principal its own jobs,
a session of the stack's admin role every job; another principal's job is answered as one that does not exist."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import httpx
import pytest
from botocore.credentials import Credentials

from enrichment.jobs.ingest import options_from_metadata, s3_job_id
from localrt.samples import check365_csv
from tests.conftest import api_auth

FINAL = ("SUCCEEDED", "PARTIAL", "FAILED", "CANCELLED")
RECORDS = [{"email": "ada@initech.com"}]


@dataclass
class Principal:
    user_id: str
    arn: str
    credentials: Credentials
    http: httpx.Client


def _client(api, credentials: Credentials) -> httpx.Client:
    return httpx.Client(base_url=api.url, timeout=30, auth=api_auth(credentials))


@pytest.fixture
def users(runtime, api) -> Iterator[tuple[Principal, Principal]]:
    """Two IAM users with keys of their own (created in moto, deleted after)."""
    iam = runtime.client("iam")
    made = []
    for who in ("alice", "bob"):
        name = f"{who}-{uuid.uuid4().hex[:8]}"
        user = iam.create_user(UserName=name)["User"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        principal = Principal(user["UserId"], user["Arn"], credentials, _client(api, credentials))
        made.append((name, key["AccessKeyId"], principal))
    yield made[0][2], made[1][2]
    for name, key_id, principal in made:
        principal.http.close()
        iam.delete_access_key(UserName=name, AccessKeyId=key_id)
        iam.delete_user(UserName=name)


@pytest.fixture
def admin(runtime, api) -> Iterator[Principal]:
    """A session of the stack's admin role (AdminRole), as an account admin would grant it."""
    session = runtime.client("sts").assume_role(RoleArn=runtime.outputs["AdminRoleArn"], RoleSessionName="ops-oncall")
    keys = session["Credentials"]
    credentials = Credentials(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])
    user = session["AssumedRoleUser"]
    with _client(api, credentials) as http:
        yield Principal(user["AssumedRoleId"], user["Arn"], credentials, http)


def wait_final(http: httpx.Client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(f"/jobs/{job_id}").json()
        if job["status"] in FINAL:
            return job
        time.sleep(0.2)
    raise TimeoutError(job_id)


def listed(http: httpx.Client, **params: str) -> set[str]:
    """Every job id of every page of GET /jobs."""
    ids, token = set(), None
    while True:
        page = http.get("/jobs", params={"limit": 100, **params} | ({"next_token": token} if token else {}))
        assert page.status_code == 200, page.text
        ids |= {job["job_id"] for job in page.json()["jobs"]}
        if not (token := page.json()["next_token"]):
            return ids


def not_found(job_id: str) -> dict:
    return {"statusCode": 404, "message": f"job {job_id} does not exist", "errors": []}


def test_each_principal_sees_only_its_own_jobs_and_an_admin_sees_every_job(users, admin, check365):
    alice, bob = users
    created = alice.http.post("/jobs", json={"vendor": "check365", "records": RECORDS})
    assert created.status_code == 202, created.text
    alices = created.json()["job_id"]
    bobs = bob.http.post("/jobs", json={"vendor": "check365", "records": RECORDS}).json()["job_id"]
    job = wait_final(alice.http, alices)
    wait_final(bob.http, bobs)

    # the owner is the principal id API Gateway names the caller by, its ARN kept for display
    assert (job["owner"], job["owner_arn"]) == (alice.user_id, alice.arn)
    assert alice.http.get(f"/jobs/{alices}/results").status_code == 200
    assert alices in listed(alice.http) and bobs not in listed(alice.http)

    # another principal's job answers exactly as a job that does not exist
    for method, path in (("GET", ""), ("GET", "/results"), ("POST", "/cancel")):
        answer = bob.http.request(method, f"/jobs/{alices}{path}")
        unknown = bob.http.request(method, f"/jobs/job-nope{path}")
        assert answer.status_code == unknown.status_code == 404, (method, path)
        assert answer.json() == not_found(alices) and unknown.json() == not_found("job-nope")
    assert alices not in listed(bob.http) | listed(bob.http, status="SUCCEEDED")
    assert bobs in listed(bob.http)

    # an admin (a session of <stack>-admin) sees both, listed and one by one
    assert {alices, bobs} <= listed(admin.http) & listed(admin.http, status="SUCCEEDED")
    for job_id, owner in ((alices, alice), (bobs, bob)):
        seen = admin.http.get(f"/jobs/{job_id}")
        assert seen.status_code == 200 and seen.json()["owner"] == owner.user_id
    assert admin.http.get(f"/jobs/{alices}/results").status_code == 200


def test_a_principal_cannot_cancel_anothers_job_and_the_owner_can(users, check365):
    alice, bob = users
    job_id = alice.http.post("/jobs", json={"vendor": "check365", "records": RECORDS * 3}).json()["job_id"]
    assert bob.http.post(f"/jobs/{job_id}/cancel").json() == not_found(job_id)
    job = wait_final(alice.http, job_id)
    assert job["stop_reason"] is None  # bob's cancel touched nothing
    assert alice.http.post(f"/jobs/{job_id}/cancel").status_code == 409  # the owner reaches it: it has ended


def test_idempotency_keys_are_each_callers_own(users, check365):
    alice, bob = users
    body = {"vendor": "check365", "records": RECORDS}
    key = {"Idempotency-Key": f"order-{uuid.uuid4().hex[:8]}"}
    first = alice.http.post("/jobs", json=body, headers=key).json()["job_id"]
    assert alice.http.post("/jobs", json=body, headers=key).json()["job_id"] == first
    other = bob.http.post("/jobs", json=body, headers=key)  # the same key: bob's own job, not alice's answer
    assert other.status_code == 202 and other.json()["job_id"] != first
    assert bob.http.get(f"/jobs/{other.json()['job_id']}").json()["owner"] == bob.user_id
    for http, job_id in ((alice.http, first), (bob.http, other.json()["job_id"])):
        wait_final(http, job_id)


def test_an_s3_drop_is_owned_by_the_principal_that_dropped_it(runtime, users, admin, check365):
    alice, bob = users
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id=alice.credentials.access_key,
        aws_secret_access_key=alice.credentials.secret_key,
    )
    key = f"inbox/check365/dropped-{uuid.uuid4().hex[:8]}.csv"
    put = s3.put_object(Bucket=runtime.bucket, Key=key, Body=check365_csv(5, seed=91).encode())
    job_id = s3_job_id(runtime.bucket, key, put["ETag"], options_from_metadata({}))
    view = runtime.wait(job_id, timeout=60)
    assert view.status == "SUCCEEDED" and view.item["owner"] == alice.user_id  # S3's AWS:<principal id>, unprefixed
    assert alice.http.get(f"/jobs/{job_id}").status_code == 200
    assert bob.http.get(f"/jobs/{job_id}").json() == not_found(job_id)
    assert admin.http.get(f"/jobs/{job_id}").status_code == 200


def test_requests_iam_auth_refuses_never_reach_the_function(api, users):
    alice, _ = users
    unsigned = httpx.get(f"{api.url}/jobs")
    assert unsigned.status_code == 403 and unsigned.json() == {"message": "Missing Authentication Token"}
    forged = Credentials(alice.credentials.access_key, "not-alices-secret")  # her key id, someone else's secret
    with _client(api, forged) as http:
        answer = http.get("/jobs")
    assert answer.status_code == 403 and answer.json()["message"].startswith("The request signature we calculated")
    tampered = alice.http.build_request("GET", "/jobs", params={"limit": 1})
    tampered = next(alice.http.auth.auth_flow(tampered))  # signed for limit=1, sent for limit=100
    tampered.url = tampered.url.copy_with(params={"limit": 100})
    assert alice.http.send(tampered, auth=None).status_code == 403
