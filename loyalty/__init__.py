"""The project package, on two floors around the four apps (customers, promotions, sales,
vouchers).

Below them, importing none of them:

- `core` — money, dates, ids, domain errors, receipts and the shared vocabulary;
- `tenancy` — merchant accounts, stores, API credentials, staff memberships;
- `api` — the plumbing of both API dialects: authentication, errors, idempotency,
  pagination, the OpenAPI schema;
- `outbox` — customer messages and their delivery;
- `backoffice` — what every app's admin shares: account scoping, read-only records.

Above them:

- `engine` — the reward rules: evaluation, grants, reversal, releases;
- the project shell — `shell` (URLs of the API, the admin site and dashboard, demo data,
  merchant creation, LGPD composition), `admin`, `management`, `urls`, `wsgi`.

import-linter keeps the floors (`make check-layers`).
"""
