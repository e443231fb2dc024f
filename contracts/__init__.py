"""Bourse contracts package (see its issue)."""
