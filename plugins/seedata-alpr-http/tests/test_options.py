"""The http engine's options: what settings and --option strings may say, and what they may not."""

from __future__ import annotations

from typing import Any

import pytest
from seedata_alpr_http import create
from seedata_alpr_http.options import HttpOptions, endpoint_of, shown

from seedata_core.errors import ConfigError


def test_defaults_and_strings_from_the_command_line() -> None:
    assert HttpOptions.from_mapping({"url": "http://h:8882"}) == HttpOptions(url="http://h:8882")
    made = HttpOptions.from_mapping(
        {"url": "http://h", "timeout": "2.5", "jpeg_quality": "75", "regions": "fr, de,,", "token": "t"}
    )
    assert (made.timeout, made.jpeg_quality, made.regions, made.token) == (2.5, 75, ("fr", "de"), "t")
    assert HttpOptions.from_mapping({"url": "http://h", "regions": ["us-ca"]}).regions == ("us-ca",)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs a url option"),
        ({"url": ""}, "needs a url option"),
        ({"url": "ftp://h"}, "must be an http:// or https:// address"),
        ({"url": "http://"}, "must be an http:// or https:// address"),
        ({"url": "http://h", "timout": 3}, "unknown field `timout`"),
        ({"url": "http://h", "timeout": "soon"}, "Expected `float`"),
        ({"url": "http://h", "timeout": 0}, "Expected `float` > 0"),
        ({"url": "http://h", "jpeg_quality": 101}, "Expected `int` <= 100"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create(options)


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("http://h:8882", "http://h:8882/v1/plate-reader/"),
        ("http://h:8882/", "http://h:8882/v1/plate-reader/"),
        ("https://api.example/v1/plate-reader/", "https://api.example/v1/plate-reader/"),
        ("https://api.example/v1/plate-reader", "https://api.example/v1/plate-reader/"),
        ("http://h/alpr", "http://h/alpr/v1/plate-reader/"),
        ("http://h/alpr?key=1", "http://h/alpr/v1/plate-reader/?key=1"),
    ],
)
def test_endpoint_of_an_address(url: str, endpoint: str) -> None:
    assert endpoint_of(url) == endpoint


def test_credentials_in_the_url_are_never_shown() -> None:
    engine = create({"url": "http://user:pa55@h:8882"})
    assert shown("http://user:pa55@h:8882/v1/plate-reader/?k=v") == "http://h:8882/v1/plate-reader/"
    assert "pa55" not in engine.version
