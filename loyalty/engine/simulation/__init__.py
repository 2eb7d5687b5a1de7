"""The what-if simulator: the account's recorded sales replayed through the rules in force
and through a draft of them — rules added, changed or retired — writing nothing, and what
each would have cost (`rules_simulate`)."""
