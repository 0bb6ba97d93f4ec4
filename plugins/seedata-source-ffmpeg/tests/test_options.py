"""Options from a camera's mapping: defaults, conversion and the errors users see."""

from __future__ import annotations

from typing import Any

import pytest
from seedata_source_ffmpeg import FfmpegOptions

from seedata_core.errors import ConfigError


def test_defaults() -> None:
    options = FfmpegOptions.from_mapping({})
    assert options == FfmpegOptions()
    assert options.transport == "tcp"
    assert options.forced_size is None
    assert options.backoff.delay(0) == 0.25
    assert options.backoff.cap == 2.0


def test_values_are_converted_from_text() -> None:
    options = FfmpegOptions.from_mapping(
        {"transport": "udp", "max_fps": "5", "size": "640x360", "stall_timeout": 2, "reconnect_max": "8"}
    )
    assert options.transport == "udp"
    assert options.max_fps == 5.0
    assert options.forced_size == (640, 360)
    assert options.stall_timeout == 2.0
    assert options.backoff.cap == 8.0


def test_reconnect_max_below_initial_means_a_constant_delay() -> None:
    backoff = FfmpegOptions(reconnect_initial=3, reconnect_max=1).backoff
    assert backoff.delay(0) == backoff.delay(5) == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fps": 5}, "unknown field `fps`"),
        ({"transport": "sctp"}, r"Invalid enum value .sctp. - at `\$\.transport`"),
        ({"stall_timeout": 0}, r"Expected `float` > 0\.0 - at `\$\.stall_timeout`"),
        ({"max_fps": -1}, r"at `\$\.max_fps`"),
        ({"size": "640"}, "size must look like 640x360, got '640'"),
        ({"size": "0x360"}, "size must look like"),
        ({"keyframes_only": "perhaps"}, r"at `\$\.keyframes_only`"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FfmpegOptions.from_mapping(options)
