"""Temporal workflows. Kept nearly stdlib-only so the sandbox stays cheap."""
