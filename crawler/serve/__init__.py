"""Serving the archive: the Datasette configuration, templates, plugins and static files used by ``antara serve``."""
