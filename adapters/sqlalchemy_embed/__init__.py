"""An existing application's SQLAlchemy models and the tracker's tables in one database, with
the application's rows and the tracker's activity written in one transaction.

See ``app.py``: ``open_tracker`` puts the tracker's tables (prefixed ``iecmhc_``) into the
application's ``MetaData`` and engine; ``log_visit`` writes a ``Visit`` and its ``Activity``
atomically. ``python -m adapters.sqlalchemy_embed [URL]`` runs the example of
``docs/embedding.md`` (from the checkout's root).
"""

from .app import Base, Site, Visit, create_app_tables, log_visit, open_tracker, site_for

__all__ = [
    "Base",
    "Site",
    "Visit",
    "create_app_tables",
    "log_visit",
    "open_tracker",
    "site_for",
]
