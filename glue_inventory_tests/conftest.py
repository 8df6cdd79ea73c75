"""Fixtures shared by the whole suite: databases (db_fixtures) and the simulated AWS fleet (sim_fixtures)."""

pytest_plugins = ["glue_inventory_tests.db_fixtures", "glue_inventory_tests.sim_fixtures"]
