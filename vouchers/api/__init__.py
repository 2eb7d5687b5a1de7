"""HTTP API of the vouchers app, one module per dialect."""
