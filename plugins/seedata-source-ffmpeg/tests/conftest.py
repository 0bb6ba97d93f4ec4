"""The ffmpeg source's tests use the RTSP camera and video fixtures of ``seedata_core.testing``."""
