"""JSON request bodies: DRF's parser, with documents nested too deeply refused as malformed.

Python's decoder gives up on nesting a few hundred levels deep with a `RecursionError`,
which DRF does not expect: without this it escapes as a 500. DRF's own message for
malformed JSON is given again here in the request's language (the decoder's own
explanation, after the dash, stays as Python writes it).
"""

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(gettext("JSON parse error - the document is nested too deeply.")) from None
        except ParseError as error:
            # DRF raises it while handling the decoder's ValueError: 'JSON parse error - <reason>'.
            reason = error.__context__
            if not isinstance(reason, ValueError):
                raise
            raise ParseError(gettext("JSON parse error - %(reason)s") % {"reason": reason}) from None
