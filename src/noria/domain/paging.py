"""Cursor pagination shared by every ``list_*`` call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from noria.errors import InvalidArgument

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results; pass ``next_page_token`` back to get the next one."""

    items: list[T]
    next_page_token: str | None = None


def check_page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"Page size {limit} is out of range: use 1 to {MAX_PAGE_SIZE}.")
    return limit
