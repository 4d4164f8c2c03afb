"""Alembic migrations of the records database, shipped inside the package."""
