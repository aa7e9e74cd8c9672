"""Spiders: what to fetch, and nothing else."""
