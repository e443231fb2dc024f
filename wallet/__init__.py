"""Bourse wallet package (see its issue)."""
