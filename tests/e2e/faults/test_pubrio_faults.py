from localrt.samples import pubrio_csv
from tests.e2e.faults.scenarios import VendorCase, fault_tests
from tests.e2e.oracle import expected_pubrio

CASE = VendorCase(
    vendor="pubrio",
    answer_lost="reported",
    sample=pubrio_csv,
    oracle=lambda rows, options: expected_pubrio(rows, ["email-work", "email-personal"]),
    submit_path="/redeem/people/batch",
    check_path="/redeem/people/batch/query",
    timeout_path="/redeem/people/batch/query",  # a lost submit answer cannot be told from a lost submit
)
globals().update(
    fault_tests(
        CASE, "pubrio", fail_reason="HTTP 500", deadline_reason="did not finish in time", credits_say="out of credits"
    )
)
