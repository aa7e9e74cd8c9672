"""Serving the archive with ``antara serve``: the Datasette it runs (``app``), the checks that choose
how to open the file (``mode``), and Datasette's configuration: metadata.yml, templates, plugins, static files."""
