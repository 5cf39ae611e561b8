"""localrt.emf: each invocation its own Powertools metric set, and its EMF line turned into CloudWatch metric data
as CloudWatch's extraction does."""

from __future__ import annotations

import threading

import pytest
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from localrt import emf


@pytest.fixture
def captured(monkeypatch) -> list[dict]:
    """emf installed, its CloudWatch calls kept here; then as it was (a local runtime of this worker may have it)."""
    running = emf.installed_region()
    documents: list[dict] = []
    monkeypatch.setattr(emf, "put_metrics", documents.append)
    emf.install("us-east-1")
    yield documents
    emf.uninstall()
    if running:
        emf.install(running)


def test_an_emf_document_becomes_one_datum_per_value_and_dimension_set():
    document = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "ContactEnrichment",
                    "Dimensions": [["service", "vendor"]],
                    "Metrics": [
                        {"Name": "VendorRequests", "Unit": "Count"},
                        {"Name": "JobDuration", "Unit": "Seconds"},
                    ],
                }
            ],
        },
        "service": "contact-enrichment",
        "vendor": "pubrio",
        "VendorRequests": [1.0, 1.0],
        "JobDuration": 12.5,
    }
    ((namespace, data),) = emf.metric_data(document)
    assert namespace == "ContactEnrichment"
    dimensions = [{"Name": "service", "Value": "contact-enrichment"}, {"Name": "vendor", "Value": "pubrio"}]
    assert [(d["MetricName"], d["Value"], d["Unit"], d["Dimensions"]) for d in data] == [
        ("VendorRequests", 1.0, "Count", dimensions),
        ("VendorRequests", 1.0, "Count", dimensions),
        ("JobDuration", 12.5, "Seconds", dimensions),
    ]
    assert data[0]["Timestamp"].timestamp() == 1_700_000_000


def test_concurrent_invocations_keep_their_own_metric_sets(captured):
    """Two invocations at once in one process, of two vendors, on one shared provider: each writes its own."""
    provider = AmazonCloudWatchEMFProvider(namespace="ContactEnrichment", service="contact-enrichment")
    both_added = threading.Barrier(2)

    def invocation(vendor: str, requests: int) -> None:
        with emf.invocation(f"fn-{vendor}"):
            provider.add_dimension("vendor", vendor)
            for _ in range(requests):
                provider.add_metric("VendorRequests", "Count", 1)
            both_added.wait(timeout=10)
            provider.flush_metrics()

    threads = [threading.Thread(target=invocation, args=args) for args in (("pubrio", 2), ("check365", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    written = {d["vendor"]: d["VendorRequests"] for d in captured}
    assert written == {"pubrio": [1.0, 1.0], "check365": [1.0, 1.0, 1.0]}
    assert not vars(provider)["metric_set"] and not vars(provider)["dimension_set"]  # its own set was never used


def test_outside_an_invocation_a_provider_keeps_its_own_set_and_prints(captured, capsys):
    provider = AmazonCloudWatchEMFProvider(namespace="ContactEnrichment", service="contact-enrichment")
    provider.add_metric("Rows", "Count", 3)
    assert provider.metric_set["Rows"]["Value"] == [3.0]
    provider.flush_metrics()
    assert '"Rows":[3.0]' in capsys.readouterr().out and not captured


def test_uninstall_gives_providers_back_their_own_sets(captured):
    provider = AmazonCloudWatchEMFProvider(namespace="ContactEnrichment")
    emf.uninstall()
    assert "metric_set" not in vars(AmazonCloudWatchEMFProvider)
    provider.add_metric("Rows", "Count", 1)
    assert provider.metric_set["Rows"]["Value"] == [1.0]
    emf.install("us-east-1")  # as the fixture left it
