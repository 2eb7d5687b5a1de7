"""Money, dates, ids, domain errors, receipts and the vocabulary every floor shares; imports no
other part of the product."""
