"""The steps of a job run: prepare, the chunk step and its pacing, finalize."""
