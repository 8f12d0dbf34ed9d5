"""Temporal activities: routing evaluation and the SQL projection, with the store injected."""
