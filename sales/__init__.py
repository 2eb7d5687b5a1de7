"""Sales (purchases) with their items and payments, and their cancellation."""
