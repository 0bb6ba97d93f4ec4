"""The HTTP endpoints; each module translates one resource between HTTP and core."""

from .auth import authenticate
from .cameras import list_cameras
from .flows import FlowController
from .health import health, metrics

__all__ = ["FlowController", "authenticate", "health", "list_cameras", "metrics"]
