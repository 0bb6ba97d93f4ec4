"""Pytest fixtures for people who write Seedata plugins (loaded through the ``pytest11`` entry point)."""
