"""Checks before every order: one small function per limit, each journaled with its values."""
