"""HTTP API of the promotions app, one module per dialect."""
