"""Errors a user can cause and fix; stages print them as one line instead of a traceback."""


class UserError(Exception):
    """A problem the message explains how to fix (bad params, bad or missing data, stale runs)."""
