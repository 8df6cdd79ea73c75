"""The inventory's headline figures (analysis.fleet.FleetNumbers) from the tables that own them."""

from __future__ import annotations

from glue_inventory.analysis.fleet import FleetNumbers, flat_job, fleet_numbers
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.jobs import read_jobs
from glue_inventory.storage.repository import Bind


def current_fleet_numbers(bind: Bind) -> FleetNumbers:
    """The figures of the stored inventory: `data_jobs` (with `job_costs`) and the current candidate list."""
    return fleet_numbers((flat_job(job) for job in read_jobs(bind).values()), current_candidates(bind))
