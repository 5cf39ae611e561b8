from localrt.samples import insideview_csv
from tests.e2e.faults.scenarios import VendorCase, fault_tests
from tests.e2e.oracle import expected_insideview

CASE = VendorCase(
    vendor="insideview",
    answer_lost="reported",
    sample=insideview_csv,
    oracle=expected_insideview,
    submit_path="/api/v1/contact/job",
    check_path="/api/v1/contact/job/*",  # every job's status path
    timeout_path="/api/v1/contact/job/*",
)
globals().update(
    fault_tests(
        CASE,
        "insideview",
        fail_reason="InsideView job was failed",
        deadline_reason="did not finish in time",
        credits_say="quota",
    )
)
