"""AWS Organizations, read with the tool's own credentials: the root, the OU tree and the accounts in each OU."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

# Organizations API reference: MaxResults ≤ 20 for ListRoots, ListOrganizationalUnitsForParent and
# ListAccountsForParent.
PAGE_SIZE = 20


@dataclass(frozen=True)
class OrgUnit:
    """The root (an `r-` id) or an organizational unit."""

    id: str
    name: str
    parent_id: str | None


@dataclass(frozen=True)
class OrgAccount:
    id: str
    name: str
    arn: str
    state: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION
    parent_id: str


@dataclass
class OrganizationTree:
    """Every OU (the root included) and every account of the Organization, each with its parent."""

    units: dict[str, OrgUnit] = field(default_factory=dict)
    accounts: list[OrgAccount] = field(default_factory=list)

    def path_ids(self, parent_id: str) -> list[str]:
        """The ids from the root down to `parent_id`."""
        ids = []
        unit: OrgUnit | None = self.units.get(parent_id)
        while unit is not None:
            ids.append(unit.id)
            unit = self.units.get(unit.parent_id) if unit.parent_id else None
        return ids[::-1]

    def path(self, parent_id: str) -> str:
        """The OU path by names, e.g. `Root/Workloads/Prod`."""
        return "/".join(self.units[unit_id].name for unit_id in self.path_ids(parent_id))


def _pages(organizations, operation: str, key: str, **params) -> Iterator[dict]:
    paginator = organizations.get_paginator(operation)
    for page in paginator.paginate(**params, PaginationConfig={"PageSize": PAGE_SIZE}):
        yield from page.get(key, [])


def account_state(raw: dict) -> str:
    """`State` (the lifecycle field AWS added in 2025), else the older `Status`."""
    return raw.get("State") or raw.get("Status") or "UNKNOWN"


def organization_tree(organizations) -> OrganizationTree:
    """The whole tree, walked from each root: ListRoots, then per OU ListOrganizationalUnitsForParent and
    ListAccountsForParent (paged). Two calls per OU; the parent of each account comes with it."""
    tree = OrganizationTree()
    todo = []
    for root in _pages(organizations, "list_roots", "Roots"):
        tree.units[root["Id"]] = OrgUnit(root["Id"], root.get("Name") or "Root", None)
        todo.append(root["Id"])
    while todo:
        parent = todo.pop()
        for unit in _pages(organizations, "list_organizational_units_for_parent", "OrganizationalUnits",
                           ParentId=parent):
            tree.units[unit["Id"]] = OrgUnit(unit["Id"], unit.get("Name") or unit["Id"], parent)
            todo.append(unit["Id"])
        for raw in _pages(organizations, "list_accounts_for_parent", "Accounts", ParentId=parent):
            tree.accounts.append(OrgAccount(raw["Id"], raw.get("Name") or raw["Id"], raw.get("Arn") or "",
                                            account_state(raw), parent))
    return tree
