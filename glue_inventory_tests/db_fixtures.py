"""Database fixtures: a throwaway SQLite file and a throwaway Postgres database."""
