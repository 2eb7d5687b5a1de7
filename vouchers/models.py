"""Models of vouchers."""
