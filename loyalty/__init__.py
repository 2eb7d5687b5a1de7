"""The loyalty engine: project package (URLs, WSGI/ASGI) and core app.

The core app owns merchant accounts, stores, API credentials and staff memberships,
and, as the engine, the reward rules and customer communications.
"""
