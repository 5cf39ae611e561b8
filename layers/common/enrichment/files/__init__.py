"""Files: reading CSV input, S3 storage, output columns, the key layout."""
