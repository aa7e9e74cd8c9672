"""``python -m crawler`` runs the ``antara`` command line."""

from crawler.cli.main import main

main()
