"""The extension points of Seedata: every hook a plugin can implement.

A plugin is a module or object with functions marked ``@seedata_core.hookimpl`` whose names are
those below. Installed plugins are found through the ``seedata`` entry-point group; Seedata's own
default plugins are found the same way. Each hook is a *provider* hook: it receives a ``register``
callback and calls it once per thing it provides, so Seedata can reject duplicate names and pick the
configured one by name.

A minimal plugin, in its own distribution::

    # pyproject.toml
    [project.entry-points.seedata]
    my_engine = "my_engine"

    # my_engine.py
    from seedata_core import hookimpl
    from seedata_core.alpr import AlprEngineSpec

    @hookimpl
    def seedata_register_alpr_engines(register):
        register(AlprEngineSpec(name="mine", version="mine 1.0", create=MyEngine))
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from .alpr import AlprEngineSpec
from .sources import FrameSourceSpec
from .storage import StorageSpec

PROJECT_NAME = "seedata"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def seedata_register_storages(register: Callable[[StorageSpec], None]) -> None:
    """Register storage backends: call ``register(StorageSpec(...))`` once for each.

    A :class:`~seedata_core.storage.StorageSpec` names the ``database_url`` schemes it serves
    (``sqlite``, ``postgresql``, ``mysql``, ...) and an ``open(settings)`` factory that returns a
    ready :class:`~seedata_core.storage.Storage`: schema created or upgraded, images directory
    prepared. Two specs claiming the same name or the same scheme are a start-up error.

    The default plugin ``seedata-storage-sql`` serves SQLite, PostgreSQL and MariaDB through
    SQLAlchemy.
    """


@hookspec
def seedata_register_alpr_engines(register: Callable[[AlprEngineSpec], None]) -> None:
    """Register licence-plate readers: call ``register(AlprEngineSpec(...))`` once for each.

    An :class:`~seedata_core.alpr.AlprEngineSpec` has a unique ``name`` (what the ``alpr_engine``
    setting names), a ``version`` string (engine and model version, stored with every flow as
    ``lpr_version``) and a ``create(options)`` factory. Seedata calls the factory once, when the
    engine is first needed, so registering must be cheap: import heavy libraries inside ``create``.
    The engine's :meth:`~seedata_core.alpr.AlprEngine.read` returns plates best first and raises
    :class:`~seedata_core.errors.AlprError` only when the engine itself failed.
    """


@hookspec
def seedata_register_frame_sources(register: Callable[[FrameSourceSpec], None]) -> None:
    """Register kinds of camera: call ``register(FrameSourceSpec(...))`` once for each.

    A :class:`~seedata_core.sources.FrameSourceSpec` says which camera sources it ``accepts`` (an
    RTSP URL, an HTTP stream, a video file path, ...) and how to ``open`` one. Seedata asks the specs
    in registration order and opens a camera with the first that accepts its source. The returned
    :class:`~seedata_core.sources.FrameSource` decodes in the background, keeps only its newest
    frame and reconnects by itself.
    """
