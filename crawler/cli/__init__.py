"""Subcommands of ``antara`` that live in their own modules (registered at the end of ``crawler/cli/main.py``)."""
