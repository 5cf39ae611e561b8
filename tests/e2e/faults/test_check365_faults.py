from localrt.samples import check365_csv
from tests.e2e.faults.scenarios import VendorCase, fault_tests
from tests.e2e.oracle import expected_check365

CASE = VendorCase(
    vendor="check365",
    answer_lost="looked_up",
    sample=check365_csv,
    oracle=expected_check365,
    submit_path="/api/validation/bulk-upload",
    check_path="/api/validation/bulk-status",
    timeout_path="/api/validation/bulk-upload",  # a retried upload reuses our job_id: one vendor job
)
globals().update(
    fault_tests(
        CASE,
        "check365",
        fail_reason="ended 'failed'",
        deadline_reason="did not finish in time",
        credits_say="out of credits",
    )
)
