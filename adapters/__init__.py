"""Thin, tested examples of embedding iecmhc_tracker: a REST service, a REDCap mapping and a
SQLAlchemy application sharing one database with the tracker."""
