"""A conversation's fields as the API takes and lists them, alike when it is created
(api.conversations) and when it is changed (api.conversation_actions, api.tags)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# A tag's name: 1..255 characters.
Tag = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# Infobip allows a topic of up to 1000 characters (the column is unbounded text).
MAX_TOPIC = 1000
# The list's order when none is asked: newest first (ids are random).
DEFAULT_ORDER = "createdAt:desc"
