"""`create_merchant NAME`: a new merchant account ready to integrate."""

import json
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from loyalty.shell.merchants import merchant_create


class Command(BaseCommand):
    help = "Create a merchant account with one store and one API credential, and print their secrets."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The merchant's name.")
        parser.add_argument("--store", default="Main store", help="Name of the first store.")
        parser.add_argument("--time-zone", default=None, help="IANA time zone (default America/Sao_Paulo).")
        parser.add_argument(
            "--cashback-percent",
            type=Decimal,
            default=None,
            help="Add a cashback rule: percent of each sale.",
        )
        parser.add_argument(
            "--points-per-currency", type=Decimal, default=None, help="Add a points rule: points per R$ 1."
        )
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object on stdout.")

    def handle(self, *args, **options):
        name = options["name"].strip()
        if not name:
            raise CommandError("NAME must not be empty.")
        try:
            created = merchant_create(
                name=name,
                store_name=options["store"],
                time_zone=options["time_zone"],
                cashback_percent=options["cashback_percent"],
                points_per_currency=options["points_per_currency"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        values = {
            "account_id": created.account.pk,
            "store_id": created.store.pk,
            "api_key": created.credential.api_key,
            "api_secret": created.api_secret,
            "store_token": created.store_token,
        }
        if options["json"]:
            self.stdout.write(json.dumps(values))
            return
        self.stdout.write(
            "\n".join(
                [
                    f"Merchant '{created.account.name}' created (account {created.account.pk}).",
                    f"  store        {created.store.name} (id {created.store.pk})",
                    f"  api_key      {values['api_key']}",
                    f"  api_secret   {values['api_secret']}",
                    f"  store_token  {values['store_token']}",
                    "The api_secret and store token are shown only now; only their hashes are kept.",
                ]
            )
        )
