"""The simulated AWS fleet (moto) used by the demo, the tests and the benchmarks."""

from glue_inventory.simulate.fleet import Fleet, SimJob, build_fleet
from glue_inventory.simulate.middleware import Fault
from glue_inventory.simulate.organization import SimAccount, SimOrganization, build_organization
from glue_inventory.simulate.server import Simulator, SimulatorError, start_simulator
from glue_inventory.simulate.truth import JobTruth

__all__ = ["Fault", "Fleet", "JobTruth", "SimAccount", "SimJob", "SimOrganization", "Simulator", "SimulatorError",
           "build_fleet", "build_organization", "start_simulator"]
