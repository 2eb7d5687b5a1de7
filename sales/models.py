"""Models of sales."""
