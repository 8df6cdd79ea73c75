"""The production topology on one machine (`glue-inventory serve`, `make serve`)."""

from glue_inventory.serve.instance import ServeError
from glue_inventory.serve.topology import run_serve

__all__ = ["ServeError", "run_serve"]
