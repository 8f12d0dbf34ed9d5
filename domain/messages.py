"""A conversation's messages: the channels, directions and authors a message has, and what its
`content` may be (checked when it is stored, and again when it is shown)."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

# A message's `content`: at most this many bytes as compact UTF-8 JSON, and this many levels of
# objects and arrays, `content` itself the first. Beyond, a 400 at `content`; a stored one
# beyond (an older version's) is listed with its content withheld (`contentNotShown`).
MAX_CONTENT_BYTES = 64 * 1024
MAX_CONTENT_DEPTH = 16


class Channel(str, Enum):
    """The channels Infobip's CreateMessageApiRequest documents."""

    SMS = "SMS"
    VIBER = "VIBER"
    FACEBOOK_MESSENGER = "FACEBOOK_MESSENGER"
    WHATSAPP = "WHATSAPP"
    RCS = "RCS"
    LIVE_CHAT = "LIVE_CHAT"
    LINE = "LINE"
    APPLE_BUSINESS_CHAT = "APPLE_BUSINESS_CHAT"
    EMAIL = "EMAIL"
    TELEGRAM = "TELEGRAM"
    INSTAGRAM_MESSAGING = "INSTAGRAM_MESSAGING"
    KAKAO_SANGDAM = "KAKAO_SANGDAM"
    VIBER_BOT = "VIBER_BOT"


class Direction(str, Enum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class AuthorType(str, Enum):
    CUSTOMER = "CUSTOMER"
    AGENT = "AGENT"
    BOT = "BOT"
    SYSTEM = "SYSTEM"


def content_problem(content: object) -> str | None:
    """Why `content` may not be stored or shown, or None: it must be a JSON object, at most
    MAX_CONTENT_DEPTH levels deep and MAX_CONTENT_BYTES as JSON, its numbers finite and its
    strings Unicode. Whatever it holds, this never fails: the depth is walked without recursion,
    and only content within the depth is serialised."""
    if not isinstance(content, dict):
        return "must be a JSON object"
    pending: list[tuple[Any, int]] = [(content, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_CONTENT_DEPTH:
            return f"at most {MAX_CONTENT_DEPTH} levels of objects and arrays"
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                pending.append((child, depth + 1))
    try:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return "strings must be valid Unicode (no lone surrogates)"
    except (ValueError, TypeError) as error:
        if "Out of range float" in str(error):
            return "numbers must be finite (no NaN or Infinity)"
        return "must be JSON"
    if size > MAX_CONTENT_BYTES:
        return f"at most {MAX_CONTENT_BYTES} bytes as JSON"
    return None
