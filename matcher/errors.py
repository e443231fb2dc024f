"""The matcher's exceptions. Rejected orders are result codes, not exceptions: an exception is a bug
or bad configuration."""

from __future__ import annotations


class MatcherError(Exception):
    """Root of every error raised by `matcher`."""


class BadMarketSpec(MatcherError, ValueError):
    """A market specification that cannot be traded exactly in integers."""


class JournalError(MatcherError):
    """The journal is unreadable or out of sequence."""
