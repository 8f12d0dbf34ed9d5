"""Revisions, one a file, named by their revision id (NNNN_slug, at most 32 characters)."""
