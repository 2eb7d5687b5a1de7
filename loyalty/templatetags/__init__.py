"""Template filters of the back office."""
