"""JSON rendering of amounts as plain numbers, the way the seed documents show them.

Money, points and quantities are `Decimal` up to here; they leave as JSON numbers in
their shortest exact form: `15.00` → `15`, `52.99` → `52.99`, `0.00` → `0`.

A view that also answers CSV (`?format=csv`) lists `CSVRenderer` after the JSON one and
answers a `CsvTable`; anything else it answers (an error) stays JSON.
"""

import csv
import io
from decimal import Decimal

from rest_framework import renderers
from rest_framework.utils import encoders

from loyalty.core.money import json_amount


class AmountJSONEncoder(encoders.JSONEncoder):
    def default(self, obj):
        if isinstance(obj, Decimal):
            return json_amount(obj)
        return super().default(obj)


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = AmountJSONEncoder


class CsvTable(list):
    """Rows of text cells for `CSVRenderer`, the header row first."""


class CSVRenderer(renderers.BaseRenderer):
    """`text/csv` (RFC 4180: comma-separated, CRLF line ends), UTF-8."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(data)
        return buffer.getvalue().encode(self.charset)
