"""The simulated AWS fleet (moto) used by the demo, the tests and the benchmarks."""

from glue_inventory.simulate.fleet import Fleet, SimJob, build_fleet, build_fleet_from
from glue_inventory.simulate.middleware import Fault
from glue_inventory.simulate.organization import SimAccount, SimOrganization, build_organization
from glue_inventory.simulate.profiles import Profile
from glue_inventory.simulate.server import Simulator, SimulatorError, start_simulator
from glue_inventory.simulate.truth import JobTruth

__all__ = ["Fault", "Fleet", "JobTruth", "Profile", "SimAccount", "SimJob", "SimOrganization", "Simulator",
           "SimulatorError", "build_fleet", "build_fleet_from", "build_organization", "start_simulator"]
