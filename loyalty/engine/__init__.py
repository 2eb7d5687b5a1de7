"""The loyalty engine: reward rules, their evaluation on a sale, grants, reversal and releases.

It sits above the four apps and receives the sales app's signals."""
