"""Internals of ``ember.utils.data``: collation, worker processes, fetchers."""
