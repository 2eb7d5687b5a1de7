"""JSON request bodies: DRF's parser, with documents nested too deeply refused as malformed.

Python's decoder gives up on nesting a few hundred levels deep with a `RecursionError`,
which DRF does not expect: without this it escapes as a 500.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
