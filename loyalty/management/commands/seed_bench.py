"""`seed_bench`: the large benchmark account, loaded through bulk paths, timed part by part."""

import json
from time import perf_counter

from django.core.management.base import BaseCommand, CommandError

from bench.seed import AccountExists, BenchSize, bench_account_load

DEFAULTS = BenchSize()


class Command(BaseCommand):
    help = (
        "Load one benchmark account: customers with wallets and ledger history, products in "
        "categories, promotions, rewards with stock and vouchers. Refuses an existing account name."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account-name", default="Benchmark", help="A name no account has yet.")
        parser.add_argument("--customers", type=int, default=DEFAULTS.customers)
        parser.add_argument(
            "--ledger-rows",
            type=int,
            default=DEFAULTS.ledger_rows,
            help="Ledger rows in all, over every wallet.",
        )
        parser.add_argument("--products", type=int, default=DEFAULTS.products)
        parser.add_argument("--promotions", type=int, default=DEFAULTS.promotions)
        parser.add_argument(
            "--json",
            action="store_true",
            help=(
                "Print one JSON object on stdout (credentials, counts, timings and samples for a load "
                "generator); the progress lines go to stderr."
            ),
        )

    def handle(self, *args, **options):
        try:
            size = BenchSize(
                customers=options["customers"],
                ledger_rows=options["ledger_rows"],
                products=options["products"],
                promotions=options["promotions"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        progress = self.stderr if options["json"] else self.stdout

        def report(part: str, rows: int, seconds: float) -> None:
            counted = f"{rows:>9,} rows" if rows else " " * 14
            progress.write(f"  {part:<24}{counted} {seconds:7.1f} s")

        progress.write(
            f"Loading '{options['account_name']}': {size.customers:,} customers, "
            f"{size.ledger_rows:,} ledger rows, {size.products:,} products, {size.promotions:,} promotions"
        )
        started = perf_counter()
        try:
            loaded = bench_account_load(name=options["account_name"], size=size, report=report)
        except AccountExists as error:
            raise CommandError(str(error)) from None
        total = perf_counter() - started
        loaded.seconds["total"] = round(total, 2)
        progress.write(f"  {'total':<38} {total:7.1f} s")
        if options["json"]:
            self.stdout.write(json.dumps(loaded.as_json()))
