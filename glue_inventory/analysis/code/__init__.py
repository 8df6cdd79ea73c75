"""The script rules: a job's code parsed (never run), its AST rules, pylint and bandit, secrets, the LLM review."""
