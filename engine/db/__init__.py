"""Persistence: typed models, the database handle and unit of work, repositories, migrations."""
