"""The project shell: what composes every floor — the API's URLs, the admin site and its
dashboard, demo data, merchant creation, a customer's LGPD export and erasure."""
