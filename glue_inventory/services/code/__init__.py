"""Code analysis and the LLM review of each job's script, with their caches."""
