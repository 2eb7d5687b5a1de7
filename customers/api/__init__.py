"""HTTP API of the customers app, one module per dialect."""
