"""The alembic environment of the SQL stores, shipped inside the package.

:class:`~iecmhc_tracker._sql.SQLStore` applies it on open; ``iecmhc init`` does the same from
the command line. The table prefix travels in ``Config.attributes["table_prefix"]``.
"""
