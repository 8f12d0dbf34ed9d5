"""The store's schema as an Alembic migration history, run in-process by store.db.migrate.

Write a new revision with `python -m store.migrations new "what changes"` (see __main__.py).
"""
