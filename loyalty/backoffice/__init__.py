"""What the admin of every app shares: scoping to the staff member's accounts, read-only
records, secrets shown once, numbers as staff type and read them."""
