"""Failures injected into a request: an exception at its k-th database statement.

Each request starts with the process's memory of the accounts' configuration emptied
(`loyalty.tenancy.cache`), so that every attempt runs the same statements, the reads of the
configuration included: a failure there must leave nothing behind either."""

from collections.abc import Callable

from django.db import connection, transaction

from loyalty.tenancy.cache import forget_all


class StatementFault:
    """An execute wrapper that raises `error` at the `at`-th statement (1-based), once."""

    def __init__(self, at: int, error: Exception) -> None:
        self.at = at
        self.error = error
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if self.count == self.at:
            raise self.error
        return execute(sql, params, many, context)


def statements_of(send: Callable[[], object]) -> int:
    """How many statements `send` runs when nothing fails; what it wrote is undone."""
    counter = StatementFault(at=0, error=RuntimeError())
    forget_all()
    with transaction.atomic(), connection.execute_wrapper(counter):
        send()
        transaction.set_rollback(True)
    return counter.count


def with_fault_at(at: int, error: Exception, send: Callable[[], object]):
    forget_all()
    with connection.execute_wrapper(StatementFault(at, error)):
        return send()
