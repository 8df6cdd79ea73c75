"""Suite-wide plugins: databases (db_fixtures), the simulated AWS fleet (sim_fixtures) and the recorder that
checks every AWS call of the session against the IAM policy (aws_calls)."""

pytest_plugins = ["glue_inventory_tests.db_fixtures", "glue_inventory_tests.sim_fixtures",
                  "glue_inventory_tests.aws_calls"]
