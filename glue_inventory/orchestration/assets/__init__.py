"""The assets, one module per group; their keys are taken from here wherever the automation names one."""

from glue_inventory.orchestration.assets.billing import glue_billed_costs
from glue_inventory.orchestration.assets.deep import DEEP_ASSET_KEYS, deep_assets
from glue_inventory.orchestration.assets.inventory import deep_analysis_candidates, glue_jobs, job_preliminary_metrics
from glue_inventory.orchestration.assets.reporting import executive_report, remediation_plans

ASSETS = [glue_jobs, job_preliminary_metrics, glue_billed_costs, deep_analysis_candidates, *deep_assets,
          remediation_plans, executive_report]
GLUE_JOBS = glue_jobs.key
PRELIMINARY = job_preliminary_metrics.key
CANDIDATES = deep_analysis_candidates.key
# The ops config of the candidate list's run after a deep analysis: score its evidence, keep the lanes
# (orchestration.automation.stages.EVIDENCE_INPUTS); `glue-inventory refresh` and the follow-up sensor use it.
RESCORE_OPS = {CANDIDATES.to_python_identifier(): {"config": {"keep_lanes": True}}}
REPORT = executive_report.key
REMEDIATION = remediation_plans.key
BILLED = glue_billed_costs.key

__all__ = ["ASSETS", "BILLED", "CANDIDATES", "DEEP_ASSET_KEYS", "GLUE_JOBS", "PRELIMINARY", "REMEDIATION", "REPORT",
           "RESCORE_OPS"]
