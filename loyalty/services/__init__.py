"""Writes of the engine core. Each service is keyword-only, typed and atomic."""
