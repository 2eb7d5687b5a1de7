"""Models of customers."""
