"""Simulated AWS fleet fixtures (moto behind a ThreadedMotoServer)."""
