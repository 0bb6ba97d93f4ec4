"""Seedata's core library: the flow model, search filters, pagination, policies and plugin contracts.

No HTTP here: another program can import this package, build a plugin manager, open a storage and
search flows without the server.
"""

from .errors import SeedataError
from .hookspecs import hookimpl, hookspec
from .models import Camera, Flow, FlowImages, NewCamera, NewFlow, User
from .plugins import Plugins, make_plugin_manager
from .settings import Settings, load_settings

__all__ = [
    "Camera",
    "Flow",
    "FlowImages",
    "NewCamera",
    "NewFlow",
    "Plugins",
    "SeedataError",
    "Settings",
    "User",
    "hookimpl",
    "hookspec",
    "load_settings",
    "make_plugin_manager",
]
