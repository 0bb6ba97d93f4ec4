"""Seedata's default storage: SQLite (or PostgreSQL, MariaDB) through SQLAlchemy, pictures as files.

Without the plugin machinery, for tests and embedding programs::

    from seedata_core import Settings
    from seedata_storage_sql import open_storage

    storage = open_storage(Settings(data_dir="/var/lib/seedata"))
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc

from seedata_core.errors import StorageUnavailable
from seedata_core.settings import Settings

from .engine import buffer_pool_warning, create_sql_engine, one_line
from .images import ImageStore
from .migrate import current_revision, upgrade
from .storage import SqlStorage

__all__ = ["SqlStorage", "open_storage", "upgrade_database"]

log = logging.getLogger(__name__)


def upgrade_database(settings: Settings) -> tuple[str | None, str | None]:
    """Bring the database of ``settings`` to the newest schema revision, touching nothing else.

    Returns the revisions before and after (``None`` before: a database without our tables). Raises
    :class:`~seedata_core.errors.StorageUnavailable` as :func:`open_storage` does.
    """
    engine = create_sql_engine(settings)
    try:
        before = current_revision(engine)
        upgrade(engine)
        return before, current_revision(engine)
    except sa_exc.OperationalError as exc:
        raise StorageUnavailable(f"cannot open the database: {one_line(exc.orig)}") from exc
    finally:
        engine.dispose()


def open_storage(settings: Settings) -> SqlStorage:
    """A ready storage for ``settings``: data directory made (mode 0700), schema migrated to the newest
    revision, and the picture writes of storages that crashed finished or undone.

    Raises :class:`~seedata_core.errors.StorageUnavailable` when the database cannot be reached and
    :class:`~seedata_core.errors.ConfigError` for an unusable ``database_url``.
    """
    data_dir = settings.data_path
    if not data_dir.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        data_dir.chmod(0o700)  # mkdir's mode is filtered by the umask
    engine = create_sql_engine(settings)
    try:
        upgrade(engine)
        warning = buffer_pool_warning(engine)
        if warning is not None:
            log.warning(warning)
        storage = SqlStorage(
            engine, ImageStore(data_dir / "images"), statement_timeout_ms=settings.statement_timeout_ms
        )
        try:
            storage.recover_images()
        except BaseException:
            storage.close()
            raise
    except sa_exc.OperationalError as exc:
        engine.dispose()
        raise StorageUnavailable(f"cannot open the database: {one_line(exc.orig)}") from exc
    except BaseException:
        engine.dispose()
        raise
    return storage
