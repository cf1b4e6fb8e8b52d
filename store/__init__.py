"""SQLAlchemy models, engine and sessions, Alembic migrations. Imports nothing of the project."""
