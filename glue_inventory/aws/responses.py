"""botocore's JSON response parser, with the walk over the model planned once per shape.

botocore converts a decoded JSON answer by walking the model: for every structure it visits every member
the model has (a Glue JobRun has about thirty, an answer carries a dozen) and dispatches each value by
name to a handler, even a string that comes back unchanged. On a full inventory that walk was a quarter of
the client's CPU (500,000 runs). `PlannedJSONParser` gives the same result: a structure visits only the
keys the answer holds, and a value with nothing to convert (a string, a number, a list or map of them)
is taken as decoded. Timestamps, blobs, unions, documents and event streams still go through botocore.
The body is decoded with orjson (a GetJobRuns page of 200 runs in about a third of the json module's time);
what orjson refuses (NaN, a body that is not JSON) is left to botocore's decoding. (orjson reads an integer past
64 bits as a float; AWS's longs are 64 bits.)

A GetJobRuns page is not walked at all (`AS_SENT`): it is returned as Glue sent it, decoded, timestamps as epoch
seconds. Its one reader, `aws.glue.fetch_new_runs`, compares the runs' ids, states and start times and hands the
new ones to `aws.parse.parse_job_run`, which reads epoch numbers: the walk converted every run of every page into a
new dict with three datetimes, a refresh's first pages mostly of runs already stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import orjson
from botocore.model import Shape
from botocore.parsers import PROTOCOL_PARSERS, JSONParser, ResponseParserFactory

# JSON values botocore returns unchanged (its default handler).
_AS_DECODED = frozenset({"string", "integer", "long", "boolean", "double", "float", "bigdecimal", "character"})


def _as_decoded(shape: Shape) -> bool:
    """True when botocore would return any JSON value of this shape unchanged."""
    if shape.type_name in _AS_DECODED:
        return True
    if shape.type_name == "list":
        return _as_decoded(shape.member)
    if shape.type_name == "map":
        return _as_decoded(shape.key) and _as_decoded(shape.value)
    return False


# Answers returned as decoded, not converted: the run history's pages (see above).
AS_SENT = frozenset({"GetJobRunsResponse"})


@dataclass(frozen=True)
class _Plan:
    """How one structure's members are converted, by the name the answer gives them."""

    decoded: dict[str, str]  # JSON name -> member name: the value is taken as decoded
    renamed: bool  # some decoded member's JSON name is not its member name
    timestamps: tuple[tuple[str, str], ...]  # (JSON name, member name)
    walked: tuple[tuple[str, str, Shape], ...]  # (JSON name, member name, shape): through botocore's handlers
    lists: frozenset[str]  # JSON names of the walked lists (an empty one is [] whatever its members)


@lru_cache(maxsize=4096)
def _plan(shape: Shape) -> _Plan:
    """A structure's plan. Shapes are kept by identity: botocore builds each once per client's service model."""
    decoded, timestamps, walked = {}, [], []
    for name, member in shape.members.items():
        key = member.serialization.get("name", name)
        if _as_decoded(member):
            decoded[key] = name
        elif member.type_name == "timestamp":
            timestamps.append((key, name))
        else:
            walked.append((key, name, member))
    return _Plan(decoded, any(k != n for k, n in decoded.items()), tuple(timestamps), tuple(walked),
                 frozenset(key for key, _, member in walked if member.type_name == "list"))


class PlannedJSONParser(JSONParser):
    """botocore's parser for the "json" protocol (Glue, the tagging API, STS's JSON answers)."""

    def _parse_body_as_json(self, body_contents):
        try:
            return orjson.loads(body_contents) if body_contents else {}
        except orjson.JSONDecodeError:
            return super()._parse_body_as_json(body_contents)

    def _handle_json_body(self, raw_body, shape):
        if shape.name in AS_SENT:
            parsed = self._parse_body_as_json(raw_body)
            return parsed if isinstance(parsed, dict) else {}  # an answer that is not an object holds no runs
        return super()._handle_json_body(raw_body, shape)

    def _handle_structure(self, shape, value):
        if value is None or shape.is_document_type or shape.is_tagged_union:
            return super()._handle_structure(shape, value)
        plan = _plan(shape)
        decoded = plan.decoded
        # botocore keeps only the model's members, and drops nulls.
        if plan.renamed:
            parsed = {decoded[k]: v for k, v in value.items() if k in decoded and v is not None}
        else:
            parsed = {k: v for k, v in value.items() if k in decoded and v is not None}
        for key, name in plan.timestamps:
            raw = value.get(key)
            if raw is not None:
                parsed[name] = self._timestamp_parser(raw)
        for key, name, member in plan.walked:
            raw = value.get(key)
            if raw is not None:
                parsed[name] = [] if raw == [] and key in plan.lists else self._parse_shape(member, raw)
        return parsed

    def _handle_list(self, shape, node):
        member = shape.member
        if member.type_name == "structure":  # a page's runs or jobs: each straight to the structure's walk
            return [self._handle_structure(member, item) for item in node]
        return super()._handle_list(shape, node)


class PlannedParserFactory(ResponseParserFactory):
    """botocore's factory, with `PlannedJSONParser` for the "json" protocol."""

    def create_parser(self, protocol_name):
        if PROTOCOL_PARSERS[protocol_name] is JSONParser:
            return PlannedJSONParser(**self._defaults)
        return super().create_parser(protocol_name)
