"""botocore's service models, loaded once and compiled into flat codecs.

botocore's ``ServiceModel``/``Shape`` objects resolve shapes lazily through
property lookups: fine for a client making one call, too slow to walk on
every request of a server. ``get_service`` loads a model once per process and
compiles, for every operation, a Query decoder, a JSON decoder, a validator,
an XML encoder and a JSON encoder (closures over precomputed tables), plus
the fixed parts of the response envelope. Shapes shared by many operations
(tags, roles...) are compiled once per service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.loaders
from botocore.model import OperationModel, ServiceModel

from rolegate.errors import AwsError, InvalidAction
from rolegate.protocol.jsonproto import JsonCompiler
from rolegate.protocol.query import QueryDecoderCompiler
from rolegate.protocol.validation import Check, ValidatorCompiler
from rolegate.protocol.xml import XmlEncoderCompiler

SERVICE_NAMES = ("sts", "iam", "organizations")


@dataclass(frozen=True, slots=True, eq=False)
class OperationSpec:
    """One operation with everything a request needs, precomputed."""

    name: str
    model: OperationModel = field(repr=False)
    query_decoder: Callable[[Mapping[str, str], str, Any, list[str]], Any] | None = field(
        repr=False
    )
    json_decoder: Callable[[Any, str], Any] | None = field(repr=False)
    validator: Check | None = field(repr=False)
    xml_encoder: Callable[[Any, list[str]], None] | None = field(repr=False)
    json_encoder: Callable[[Any], Any] | None = field(repr=False)
    # '<OpResponse xmlns="NS"><OpResult>' (no Result element without output)
    xml_open: str = field(repr=False)
    # '</OpResult>' + ResponseMetadata opening, or "" for no-output operations
    xml_result_close: str = field(repr=False)
    # '</RequestId></ResponseMetadata></OpResponse>'
    xml_close: str = field(repr=False)

    @property
    def has_output(self) -> bool:
        return self.model.output_shape is not None


@dataclass(frozen=True, slots=True, eq=False)
class ServiceSpec:
    """A service as rolegate serves it (``get_service("sts")``)."""

    name: str
    version: str
    namespace: str | None  # xmlNamespace (Query); None for JSON services
    protocol: str  # "query" | "json"
    signing_name: str
    target_prefix: str | None  # JSON: X-Amz-Target prefix, e.g. AWSOrganizationsV20161128
    json_version: str | None
    operation_names: frozenset[str]
    operations: Mapping[str, OperationSpec] = field(repr=False)
    model: ServiceModel = field(repr=False)

    def operation(self, action: str) -> OperationSpec:
        """The operation named ``action``; ``InvalidAction`` (400) if there is none."""
        op = self.operations.get(action)
        if op is None:
            if self.protocol == "json":
                raise AwsError(
                    f"Operation {action} is not supported by {self.name}",
                    code="UnknownOperationException",
                    status=400,
                )
            raise InvalidAction(f"Could not find operation {action} for version {self.version}")
        return op


def _build_operation(
    service: ServiceModel,
    name: str,
    queries: QueryDecoderCompiler,
    validators: ValidatorCompiler,
    xmls: XmlEncoderCompiler,
    jsons: JsonCompiler,
    *,
    is_query: bool,
) -> OperationSpec:
    op = service.operation_model(name)
    input_shape = op.input_shape
    output_shape = op.output_shape
    namespace = service.metadata.get("xmlNamespace", "")
    response_open = f'<{name}Response xmlns="{namespace}">'
    metadata_open = "<ResponseMetadata><RequestId>"
    if output_shape is not None:
        wrapper = output_shape.serialization.get("resultWrapper", f"{name}Result")
        xml_open = f"{response_open}<{wrapper}>"
        xml_result_close = f"</{wrapper}>{metadata_open}"
    else:
        xml_open = response_open + metadata_open
        xml_result_close = ""
    return OperationSpec(
        name=name,
        model=op,
        query_decoder=queries.compile(input_shape)[1]
        if is_query and input_shape is not None
        else None,
        json_decoder=jsons.decoder(input_shape)
        if not is_query and input_shape is not None
        else None,
        validator=validators.compile(input_shape) if input_shape is not None else None,
        xml_encoder=xmls.compile(output_shape)[1]
        if is_query and output_shape is not None
        else None,
        json_encoder=jsons.encoder(output_shape)
        if not is_query and output_shape is not None
        else None,
        xml_open=xml_open,
        xml_result_close=xml_result_close,
        xml_close=f"</RequestId></ResponseMetadata></{name}Response>",
    )


def load_service(name: str, loader: botocore.loaders.Loader | None = None) -> ServiceSpec:
    """Load and compile one service model (uncached; see :func:`get_service`)."""
    loader = loader or botocore.loaders.create_loader()
    service = ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)
    meta = service.metadata
    protocol = meta["protocol"]
    if protocol not in ("query", "json"):
        raise ValueError(f"{name}: unsupported protocol {protocol!r}")
    is_query = protocol == "query"
    queries, validators = QueryDecoderCompiler(), ValidatorCompiler()
    xmls, jsons = XmlEncoderCompiler(), JsonCompiler()
    operations = {
        op_name: _build_operation(
            service, op_name, queries, validators, xmls, jsons, is_query=is_query
        )
        for op_name in service.operation_names
    }
    return ServiceSpec(
        name=name,
        version=meta["apiVersion"],
        namespace=meta.get("xmlNamespace") if is_query else None,
        protocol=protocol,
        signing_name=service.signing_name,
        target_prefix=meta.get("targetPrefix"),
        json_version=meta.get("jsonVersion"),
        operation_names=frozenset(operations),
        operations=operations,
        model=service,
    )


_services: dict[str, ServiceSpec] = {}
_lock = threading.Lock()


def get_service(name: str) -> ServiceSpec:
    """The compiled spec of ``"sts"``, ``"iam"`` or ``"organizations"``.

    Loaded on first use and kept for the process: a model is immutable data,
    and compiling it is the start-up cost the per-request path avoids. Call
    it for all three services at start-up to take the cost before serving.
    """
    spec = _services.get(name)
    if spec is not None:
        return spec
    if name not in SERVICE_NAMES:
        raise ValueError(f"unknown service {name!r}; expected one of {SERVICE_NAMES}")
    with _lock:
        spec = _services.get(name)
        if spec is None:
            spec = _services[name] = load_service(name)
    return spec
