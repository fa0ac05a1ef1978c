"""Notebook plans, one module per assignment name (see handout.notebook)."""
