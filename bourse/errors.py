"""The root exception of `bourse/`, the layer that composes the packages (`bourse up`)."""


class BourseError(Exception):
    """A part of the stack could not start or stopped; the message says which and why."""
