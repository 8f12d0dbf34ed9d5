"""Switchboard's command line, settings and the embedded development stack."""
