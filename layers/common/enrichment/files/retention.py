"""What a job leaves behind once it has settled: its outputs only. Its working files (the input's copy, the plan,
the chunk batches, the chunks' results) hold contact data nothing reads after the job settled, so Finalize deletes
them then; the data bucket's lifecycle rules catch whatever a deletion missed (see template.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from enrichment.files import layout, storage


def working_files(bucket: str, job_id: str) -> Iterator[str]:
    """Every working file of the job that exists, one listing per prefix."""
    for prefix in layout.working_prefixes(job_id):
        yield from storage.list_keys(bucket, prefix)


def delete_working_files(bucket: str, job_id: str) -> int:
    """Delete the job's working files (call only once the job has settled: Finalize reads them until then).
    Safe to repeat: a second call finds nothing left. Returns how many were deleted."""
    return storage.delete_keys(bucket, working_files(bucket, job_id))
