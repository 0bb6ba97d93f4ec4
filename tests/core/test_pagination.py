from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedata_core.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, Page, PageRequest


@pytest.mark.parametrize(
    ("page", "per_page", "expected"),
    [
        (None, None, PageRequest(1, 20)),
        ("3", None, PageRequest(3, 20)),
        (3, "10", PageRequest(3, 10)),
        ("0", None, PageRequest(1, 20)),
        ("-4", None, PageRequest(1, 20)),
        ("abc", None, PageRequest(1, 20)),
        ("2.5", None, PageRequest(1, 20)),
        (2.5, None, PageRequest(1, 20)),
        (True, None, PageRequest(1, 20)),
        ([2], None, PageRequest(1, 20)),
        (" 7 ", None, PageRequest(7, 20)),
        (None, "0", PageRequest(1, 1)),
        (None, "-5", PageRequest(1, 1)),
        (None, "51", PageRequest(1, 50)),
        (None, "1000000", PageRequest(1, 50)),
        (None, "xyz", PageRequest(1, 20)),
        ("1" + "0" * 40, None, PageRequest(10**30, 20)),
        ("9" * 5000, "9" * 5000, PageRequest(10**30, 50)),
        (1e300, None, PageRequest(10**30, 20)),
    ],
)
def test_read(page: object, per_page: object, expected: PageRequest) -> None:
    assert PageRequest.read(page, per_page) == expected


@pytest.mark.parametrize(
    ("requested", "total", "current", "count", "offset"),
    [
        (1, 0, 1, 0, 0),
        (5, 0, 1, 0, 0),
        (1, 1, 1, 1, 0),
        (2, 40, 2, 2, 20),
        (3, 40, 2, 2, 20),
        (10**18, 41, 3, 3, 40),
    ],
)
def test_resolve(requested: int, total: int, current: int, count: int, offset: int) -> None:
    page = Page.resolve(PageRequest(requested, 20), total)
    assert (page.current, page.page_count, page.offset) == (current, count, offset)


def test_headers() -> None:
    page = Page.resolve(PageRequest(2, 20), 45)
    assert page.headers() == {
        "X-Pagination-Current-Page": "2",
        "X-Pagination-Page-Count": "3",
        "X-Pagination-Per-Page": "20",
        "X-Pagination-Total-Count": "45",
    }


def test_links_middle_page_in_framework_order() -> None:
    page = Page.resolve(PageRequest(2, 20), 45)
    assert page.links("http://h/flows", [("page", "2"), ("x", "y")]) == (
        "<http://h/flows?x=y&page=2>; rel=self, <http://h/flows?x=y&page=1>; rel=first, "
        "<http://h/flows?x=y&page=3>; rel=last, <http://h/flows?x=y&page=1>; rel=prev, "
        "<http://h/flows?x=y&page=3>; rel=next"
    )


def test_links_keep_a_non_default_page_size() -> None:
    page = Page.resolve(PageRequest(1, 5), 5)
    assert page.links("http://h/f", []) == (
        "<http://h/f?page=1&per-page=5>; rel=self, <http://h/f?page=1&per-page=5>; rel=first, "
        "<http://h/f?page=1&per-page=5>; rel=last"
    )


def test_links_without_results_have_only_self() -> None:
    assert Page.resolve(PageRequest(3), 0).links("http://h/f", []) == "<http://h/f?page=1>; rel=self"


@given(st.integers(1, 10**6), st.integers(0, 10**7), st.integers(1, MAX_PER_PAGE))
def test_resolved_page_always_exists(requested: int, total: int, per_page: int) -> None:
    page = Page.resolve(PageRequest(requested, per_page), total)
    assert 1 <= page.current <= max(1, page.page_count)
    assert page.offset <= max(0, total - 1)
    assert (page.page_count - 1) * per_page < total <= page.page_count * per_page or total == 0


@given(st.one_of(st.none(), st.text(), st.integers(), st.floats(), st.booleans()))
def test_read_never_fails(raw: object) -> None:
    request = PageRequest.read(raw, raw)
    assert request.page >= 1
    assert 1 <= request.per_page <= MAX_PER_PAGE or request.per_page == DEFAULT_PER_PAGE
