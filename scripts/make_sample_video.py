#!/usr/bin/env python3
"""Remake the sample video that ships in the package (``seedata_core/data/sample.mp4``).

Run from the repository's virtualenv after changing :mod:`seedata_core.samplevideo`; commit the result.
"""

from __future__ import annotations

from seedata_core.samplevideo import bundled_sample_video, make_sample_video

if __name__ == "__main__":
    path = make_sample_video(bundled_sample_video())
    print(f"{path} ({path.stat().st_size} bytes)")
