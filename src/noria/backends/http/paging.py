"""Query parameters of a paged list request, shared by the HTTP repos."""

from __future__ import annotations

from typing import Any

from noria.domain.paging import check_page_size


def page_params(limit: int, page_token: str | None, **filters: Any) -> dict[str, Any]:
    """``limit`` (checked here, before a request is sent), the page token when given, and
    the filters that are set (None leaves a filter out)."""
    params: dict[str, Any] = {"limit": check_page_size(limit)}
    params.update({key: value for key, value in filters.items() if value is not None})
    if page_token is not None:
        params["page_token"] = page_token
    return params
