"""The one way every list is paginated: `?limit=&offset=` → `{"count", "next_offset", "items"}`.

Use it as `@paginate(LimitOffset)` on an operation declared with `response=list[ItemSchema]`
that returns a queryset (or a list); ninja rewrites the response schema to the page shape.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase, paginate

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "LimitOffset", "paginate"]


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page")
    offset: int = Field(0, ge=0, description="Items to skip")


class Page(Schema):
    count: int = Field(description="Items in the whole list")
    next_offset: int | None = Field(description="Offset of the next page; null on the last")
    items: list[Any]


class LimitOffset(PaginationBase):
    Input = PageParams
    Output = Page

    items_attribute: str = "items"

    def paginate_queryset(
        self, queryset: QuerySet | list, pagination: PageParams, request: HttpRequest, **params: Any
    ) -> dict:
        offset, limit = pagination.offset, pagination.limit
        count = self._items_count(queryset)
        end = offset + limit
        return {
            "count": count,
            "next_offset": end if end < count else None,
            "items": list(queryset[offset:end]),
        }
