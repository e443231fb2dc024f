"""Bourse matcher package (see its issue)."""
