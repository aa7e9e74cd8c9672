"""The ``antara`` command line: the group and its registry in ``main.py``, a module per command family."""
