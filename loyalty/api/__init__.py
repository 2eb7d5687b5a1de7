"""HTTP API plumbing shared by both dialects: authentication, errors, parsing, paging."""
