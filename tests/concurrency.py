"""Run a function from several threads at once, each on its own database connection; start
other processes on the test database."""

import os
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def run_concurrently(count: int, function: Callable[[int], Any], timeout: float = 60) -> list[Any]:
    """Start `count` threads that call `function(i)` together; their results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout)
            results[index] = function(index)
        except BaseException as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker did not finish in time"
    return results


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a management command or a Celery worker started by a test: this
    test database (PostgreSQL, whose data other processes see once committed) and `extra`."""
    database = connections["default"].settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        **extra,
    }
