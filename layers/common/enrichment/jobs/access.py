"""Who may see a job: the IAM principal that created it, and the stack's admins.

A job records its owner: the principal id both API Gateway (`requestContext.identity.user`) and S3 event records
(`userIdentity.principalId`, without its `AWS:` prefix) give for a caller, `AIDA...` for an IAM user and
`AROA...:<session>` for an assumed role; a schedule's jobs are owned by `schedule:<name>`. The principal id is
the durable key (an ARN can be reused by another user of the same name); the ARN is kept beside it for display.

An admin is a caller whose ARN is a session of the stack's admin role (`<stack>-admin`, ADMIN_ROLE_NAME) in the
API's own account: IAM decides who may assume that role, so being an admin is an IAM permission, not a claim
the request makes. Everyone else sees only their own jobs; another principal's job is answered as if it did not
exist, so its id says nothing.
"""

from __future__ import annotations

import re

from enrichment.models import Job, Model

S3_PRINCIPAL_PREFIX = "AWS:"
SCHEDULE_OWNER_PREFIX = "schedule:"


class NoCaller(PermissionError):
    """A request that carries no IAM principal: it did not pass API Gateway's IAM auth."""


class Caller(Model):
    """The principal behind a request."""

    principal: str  # the principal id: AIDA... (a user), AROA...:session (an assumed role)
    arn: str | None = None
    admin: bool = False


def admin_session_pattern(account_id: str, admin_role_name: str) -> re.Pattern[str]:
    """The ARN of any session of the admin role: arn:<partition>:sts::<account>:assumed-role/<role>/<session>."""
    return re.compile(rf"^arn:[a-z-]+:sts::{re.escape(account_id)}:assumed-role/{re.escape(admin_role_name)}/[^/]+$")


def caller_of(user: str | None, user_arn: str | None, account_id: str, admin_role_name: str) -> Caller:
    """The caller of an API request from what API Gateway's IAM auth put in `requestContext.identity`."""
    if not user:
        raise NoCaller("the request carries no IAM caller identity: it must be signed (SigV4) by an IAM principal")
    admin = bool(admin_role_name and user_arn and admin_session_pattern(account_id, admin_role_name).match(user_arn))
    return Caller(principal=user, arn=user_arn, admin=admin)


def s3_owner(principal_id: str | None) -> str | None:
    """The owner of an S3 drop from its event record's `userIdentity.principalId` (`AWS:AIDA...` -> `AIDA...`)."""
    return principal_id.removeprefix(S3_PRINCIPAL_PREFIX) if principal_id else None


def schedule_owner(name: str) -> str:
    return f"{SCHEDULE_OWNER_PREFIX}{name}"


def may_see(caller: Caller, job: Job) -> bool:
    """Admins see every job; anyone else only the jobs they own (a job with no owner: admins only)."""
    return caller.admin or (job.owner is not None and job.owner == caller.principal)
