"""HTTP API of the sales app, one module per dialect."""
