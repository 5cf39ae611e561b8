from localrt.samples import prospeo_csv
from tests.e2e.faults.scenarios import VendorCase, fault_tests
from tests.e2e.oracle import expected_prospeo

PATH = "/bulk-enrich-person"
CASE = VendorCase(
    vendor="prospeo",
    answer_lost="resent",
    sample=prospeo_csv,
    oracle=expected_prospeo,
    submit_path=PATH,
    check_path=PATH,  # answered at once: there is nothing else to call
    timeout_path=PATH,  # re-enriching a record is free
    rows=100,
)


def never_answers(sim) -> None:
    # A synchronous vendor has no job to leave unfinished: a call that never answers, every time.
    sim.inject("timeout", times=20, path=PATH, seconds=3)


globals().update(
    fault_tests(
        CASE,
        "prospeo",
        fail_reason="INVALID_REQUEST",
        deadline_reason="no answer within",
        credits_say="INSUFFICIENT_CREDITS",
        never_complete=never_answers,
    )
)
