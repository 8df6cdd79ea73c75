"""Resource Groups Tagging API: the tags of every tagged Glue job of a Region, 100 jobs per call."""

from __future__ import annotations

from botocore.exceptions import ClientError

from glue_inventory.aws.errors import ACCESS_DENIED, error_code

# Resource Groups Tagging API reference: ResourcesPerPage ≤ 100, TagsPerPage ≤ 500. A page also ends at
# TagsPerPage tags (100 unless asked): at 3-4 tags per job that is ~26 jobs a page.
TAG_PAGE = 100
TAGS_PER_PAGE = 500


def job_name_from_arn(arn: str) -> str | None:
    _, sep, name = arn.partition(":job/")
    return name if sep else None


def tagged_jobs(tagging) -> dict[str, dict[str, str]] | None:
    """Tags of every tagged job of the region, up to 100 jobs per GetResources call; None when that API is
    denied. GetResources lists only resources that carry (or once carried) tags: an unlisted job has none."""
    tags: dict[str, dict[str, str]] = {}
    token = ""
    try:
        while True:
            page = tagging.get_resources(ResourceTypeFilters=["glue:job"], ResourcesPerPage=TAG_PAGE,
                                         TagsPerPage=TAGS_PER_PAGE, PaginationToken=token)
            for resource in page.get("ResourceTagMappingList", []):
                name = job_name_from_arn(resource["ResourceARN"])
                if name is not None:
                    tags[name] = {t["Key"]: t["Value"] for t in resource.get("Tags", [])}
            token = page.get("PaginationToken") or ""
            if not token:
                return tags
    except ClientError as exc:
        if error_code(exc) not in ACCESS_DENIED:
            raise
        return None
