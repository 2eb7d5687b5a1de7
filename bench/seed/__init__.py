"""The benchmark account: a merchant as large as a big customer, loaded through bulk paths.

`seed_bench` loads one account with customers, their wallets and a ledger history,
products in categories, promotions, rewards with stock and vouchers. A million ledger rows
through `wallet_post` would take the better part of an hour, so the history is written in
bulk (`COPY` on PostgreSQL, batched `bulk_create` elsewhere) and each wallet is written
with the exact sum of its own rows, computed from the same generator: `check_wallets`
stays clean. The account, its store, credential, rules, categories and rewards are few
and go through the services like any other merchant's.

Everything is deterministic (a customer's CPF, contacts and history follow from its
position), except the secrets and the voucher codes. On PostgreSQL rows keep the dates
they are given; `bulk_create` stamps `auto_now` fields with the load time instead.
"""

from bench.seed.data import BenchSize, cpf_with_check_digits, customer_document
from bench.seed.load import AccountExists, BenchAccount, bench_account_load

__all__ = [
    "AccountExists",
    "BenchAccount",
    "BenchSize",
    "bench_account_load",
    "cpf_with_check_digits",
    "customer_document",
]
