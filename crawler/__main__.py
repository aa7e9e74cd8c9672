"""``python -m crawler`` runs the ``antara`` command line."""

from crawler.cli import main

main()
