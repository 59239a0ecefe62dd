"""Attacks on the suppressed state tables (see README.md)."""
