"""The HTTP API: one router per resource, auth, the error shape."""
