"""Checks before every order: one small function per limit, each result journaled with its values."""
