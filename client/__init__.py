"""`enrich`: the command-line client of the jobs API."""
