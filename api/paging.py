"""`?page=0&limit=10&orderBy=field:asc|desc`, validated into one object."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Query
from sqlalchemy import func
from sqlmodel import Session, select

from api.errors import bad_request

MAX_LIMIT = 999
# Infobip's default page size for its lists.
DEFAULT_LIMIT = 10
# Beyond this an offset is no longer a page anyone reads, and may overflow the database.
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Paging:
    page: int
    limit: int
    field: str
    descending: bool

    @property
    def offset(self) -> int:
        return self.page * self.limit

    @property
    def order_by(self) -> str:
        return f"{self.field}:{'desc' if self.descending else 'asc'}"


def parse_paging(
    page: int, limit: int, order_by: str | None, allowed: set[str], default: str
) -> Paging:
    if not 0 <= page <= MAX_PAGE:
        raise bad_request("page", f"must be between 0 and {MAX_PAGE}")
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request("limit", f"must be between 1 and {MAX_LIMIT}")
    field, _, direction = (order_by or default).partition(":")
    direction = direction or "asc"
    if field not in allowed or direction not in ("asc", "desc"):
        raise bad_request(
            "orderBy", f"must be field:asc or field:desc with field one of {sorted(allowed)}"
        )
    return Paging(page=page, limit=limit, field=field, descending=direction == "desc")


def order_by_param(fields: Iterable[str], description: str | None = None) -> Any:
    """`?orderBy=`, documented with the pattern parse_paging enforces for these fields (empty
    or left out: the list's default order)."""
    names = sorted(fields)
    alternatives = "|".join(re.escape(name) for name in names)
    return Query(
        default=None, alias="orderBy",
        description=description or f"{', '.join(names)}, then :asc (default) or :desc",
        json_schema_extra={"pattern": f"^(?:(?:{alternatives})(?::(?:asc|desc))?)?$"},
    )


def page_of(session: Session, query: Any, paging: Paging, column: Any, *tiebreak: Any) -> tuple[list, int]:
    """One page of `query` in the asked order, then `tiebreak` (so pages are stable), and
    how many rows the whole query has."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    order = column.desc() if paging.descending else column.asc()
    rows = session.exec(query.order_by(order, *tiebreak).offset(paging.offset).limit(paging.limit)).all()
    return list(rows), total
