"""Signed webhooks: the account's endpoints, the events queued for them in the outbox, and
their delivery the Standard Webhooks way (`api-v2.md` → Webhooks)."""
