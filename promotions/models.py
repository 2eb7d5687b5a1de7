"""Models of promotions."""
