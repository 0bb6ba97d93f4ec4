"""Pages of search results, read the way the original product's framework reads them.

``page`` is 1-based; a missing, non-integer, zero or negative page is page 1 and a page past the end
is the last page. ``per-page`` defaults to 20 and is clamped to 1..50. With no results there are no
pages: the current page is 1 and the page count 0.
"""

from __future__ import annotations

from urllib.parse import urlencode

import msgspec

from .validation import as_integer

DEFAULT_PER_PAGE = 20
MIN_PER_PAGE = 1
MAX_PER_PAGE = 50


class PageRequest(msgspec.Struct, frozen=True):
    """What the client asked for, already read: a 1-based page (possibly past the end) and a page size."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def read(cls, page: object = None, per_page: object = None) -> PageRequest:
        """Read raw ``page`` and ``per-page`` values (strings or JSON values, ``None`` when absent)."""
        number = as_integer(page)
        size = as_integer(per_page)
        return cls(
            page=number if number is not None and number > 0 else 1,
            per_page=DEFAULT_PER_PAGE if size is None else min(max(size, MIN_PER_PAGE), MAX_PER_PAGE),
        )


class Page(msgspec.Struct, frozen=True):
    """A resolved page: where it starts and what the pagination headers say."""

    current: int
    per_page: int
    total: int

    @property
    def page_count(self) -> int:
        return -(-self.total // self.per_page)

    @property
    def offset(self) -> int:
        return (self.current - 1) * self.per_page

    @classmethod
    def resolve(cls, request: PageRequest, total: int) -> Page:
        """Clamp the requested page to the pages that exist."""
        page_count = -(-total // request.per_page)
        return cls(current=max(1, min(request.page, page_count)), per_page=request.per_page, total=total)

    def headers(self) -> dict[str, str]:
        """The ``X-Pagination-*`` headers."""
        return {
            "X-Pagination-Current-Page": str(self.current),
            "X-Pagination-Page-Count": str(self.page_count),
            "X-Pagination-Per-Page": str(self.per_page),
            "X-Pagination-Total-Count": str(self.total),
        }

    def links(self, base_url: str, query: list[tuple[str, str]]) -> str:
        """The ``Link`` header: self, first, last, prev and next, in the framework's order.

        ``query`` is the request's query string; its ``page`` and ``per-page`` are replaced.
        """
        kept = [(k, v) for k, v in query if k not in ("page", "per-page")]

        def url(number: int) -> str:
            params = [*kept, ("page", str(number))]
            if self.per_page != DEFAULT_PER_PAGE:
                params.append(("per-page", str(self.per_page)))
            return f"{base_url}?{urlencode(params)}"

        rels = [("self", self.current)]
        if self.page_count > 0:
            rels += [("first", 1), ("last", self.page_count)]
            if self.current > 1:
                rels.append(("prev", self.current - 1))
            if self.current < self.page_count:
                rels.append(("next", self.current + 1))
        return ", ".join(f"<{url(number)}>; rel={rel}" for rel, number in rels)
