"""Who may see a job: the owner rule, the admin role, and one owner's jobs listed from the ByOwner index."""

from __future__ import annotations

import pytest

from enrichment.jobs.access import NoCaller, caller_of, may_see, s3_owner, schedule_owner
from enrichment.jobs.store import JobStore
from enrichment.models import JobStatus, Vendor
from tests.unit.layer.conftest import new_job

ACCOUNT = "123456789012"
ADMIN_ROLE = "enrich-admin"


@pytest.mark.parametrize(
    ("user_arn", "admin"),
    [
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/{ADMIN_ROLE}/ops-oncall", True),
        (f"arn:aws-us-gov:sts::{ACCOUNT}:assumed-role/{ADMIN_ROLE}/ops", True),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/{ADMIN_ROLE}-not/ops", False),  # another role whose name starts so
        (f"arn:aws:sts::999999999999:assumed-role/{ADMIN_ROLE}/ops", False),  # the same name in another account
        (f"arn:aws:iam::{ACCOUNT}:user/{ADMIN_ROLE}", False),  # a user named like the role
        (f"arn:aws:iam::{ACCOUNT}:role/{ADMIN_ROLE}", False),  # the role itself is not a caller
        (None, False),
    ],
)
def test_an_admin_is_a_session_of_the_stacks_admin_role_in_its_account(user_arn, admin):
    caller = caller_of("AROAEXAMPLE:ops", user_arn, ACCOUNT, ADMIN_ROLE)
    assert caller.admin is admin and caller.principal == "AROAEXAMPLE:ops"


def test_without_an_admin_role_nobody_is_admin():
    assert not caller_of("AROAX:ops", f"arn:aws:sts::{ACCOUNT}:assumed-role/x/ops", ACCOUNT, "").admin


def test_a_request_without_a_principal_is_refused():
    with pytest.raises(NoCaller, match="must be signed"):
        caller_of(None, None, ACCOUNT, ADMIN_ROLE)


def test_owners_from_s3_and_schedules():
    assert s3_owner("AWS:AIDAEXAMPLE") == "AIDAEXAMPLE"
    assert s3_owner("AWS:AROAEXAMPLE:session") == "AROAEXAMPLE:session"
    assert s3_owner(None) is None
    assert schedule_owner("weekly") == "schedule:weekly"


def test_the_owner_and_admins_see_a_job_others_do_not(emulated_aws):
    job = new_job(emulated_aws, Vendor.CHECK365, "email\n", owner="AIDAALICE", owner_arn="arn:aws:iam::1:user/alice")
    alice = caller_of("AIDAALICE", "arn:aws:iam::1:user/alice", ACCOUNT, ADMIN_ROLE)
    bob = caller_of("AIDABOB", "arn:aws:iam::1:user/bob", ACCOUNT, ADMIN_ROLE)
    admin = caller_of("AROAADMIN:ops", f"arn:aws:sts::{ACCOUNT}:assumed-role/{ADMIN_ROLE}/ops", ACCOUNT, ADMIN_ROLE)
    assert may_see(alice, job) and may_see(admin, job) and not may_see(bob, job)
    unowned = new_job(emulated_aws, Vendor.CHECK365, "email\n", job_id="job-unowned")
    assert may_see(admin, unowned) and not may_see(alice, unowned)


def test_one_owners_jobs_newest_first_a_page_at_a_time_with_a_status_filter(emulated_aws):
    store = JobStore(emulated_aws.jobs_table)
    for index in range(5):
        new_job(emulated_aws, Vendor.CHECK365, "email\n", job_id=f"job-a{index}", owner="AIDAALICE")
        new_job(emulated_aws, Vendor.CHECK365, "email\n", job_id=f"job-b{index}", owner="AIDABOB")
    new_job(emulated_aws, Vendor.CHECK365, "email\n", job_id="job-unowned")
    pages, start = [], None
    while True:
        jobs, start = store.list(owner="AIDAALICE", limit=2, start=start)
        pages.append([job.job_id for job in jobs])
        if start is None:
            break
    listed = [job_id for page in pages for job_id in page]
    assert sorted(listed) == [f"job-a{i}" for i in range(5)] and max(len(p) for p in pages) == 2
    created = [store.require(job_id).created_at for job_id in listed]
    assert created == sorted(created, reverse=True)

    assert store.transition("job-a3", to=JobStatus.RUNNING, when=(JobStatus.PENDING,))
    running, _ = store.list(owner="AIDAALICE", status="RUNNING", limit=10)
    assert [job.job_id for job in running] == ["job-a3"]
    assert store.list(owner="AIDABOB", status="RUNNING", limit=10)[0] == []
    everyone, _ = store.list(limit=100)  # an admin's listing: every job, owned or not
    assert {job.job_id for job in everyone} == {f"job-{w}{i}" for w in "ab" for i in range(5)} | {"job-unowned"}
