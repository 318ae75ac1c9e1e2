"""Validly signed requests with random parameters never meet a 5xx.

Every IAM, STS and Organizations operation of botocore's models is called
with seeded random members (some required ones left out, wrong types, odd
strings, entity names that exist), signed as the admin. Whatever the
outcome, it must be an AWS error with a 4xx status or a success: an
internal failure here is a handler trusting a member the model lets be
absent, or bad input reaching code that cannot take it.
"""

from __future__ import annotations

import http.client
import json
import random
import string
from typing import Any
from urllib.parse import quote

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.server import Server

VALUES = [
    "",
    " ",
    "a",
    "A" * 129,
    "é",
    "\N{COLLISION SYMBOL}",
    "-1",
    "0",
    "99999999999999999999",
    "x" * 3000,
    "%ZZ",
    "admin",
    "app",
    "/",
    "/a/",
    "arn:",
    "*",
    "{}",
    '{"Version":"2012-10-17","Statement":[]}',
    "arn:aws:iam::123456789012:role/app",
    "arn:aws:iam::123456789012:user/admin",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::123456789012:mfa/x",
    "AKIAAAAAAAAAAAAAAAAA",
    "2026-01-01T00:00:00Z",
]
QUERY_SCALARS = {
    "integer": ["1", "0", "-5", "900", "43201", "abc", "", "1e3"],
    "long": ["1", "-5", "abc", "99999999999999999999"],
    "boolean": ["true", "false", "TRUE", "1", ""],
    "timestamp": ["2026-01-01T00:00:00Z", "bad", ""],
    "blob": ["aGVsbG8=", "!!!", ""],
}


def _text(rnd: random.Random) -> str:
    r = rnd.random()
    if r < 0.2:  # names that exist, so that calls get past their lookups
        return rnd.choice(("admin", "app", "arn:aws:iam::123456789012:role/app"))
    if r < 0.7:
        return rnd.choice(VALUES)
    return "".join(rnd.choice(string.printable) for _ in range(rnd.randint(0, 30)))


def _query_pairs(rnd: random.Random, shape: Any, prefix: str, out: list, depth: int = 0) -> None:
    if depth > 4:
        return
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            if rnd.random() < 0.5 or (name in shape.required_members and rnd.random() < 0.9):
                _query_pairs(rnd, member, f"{prefix}.{name}" if prefix else name, out, depth + 1)
    elif kind == "list":
        for i in range(rnd.choice([0, 1, 2])):
            index = rnd.choice([i + 1, i + 1, 0, 7])
            _query_pairs(rnd, shape.member, f"{prefix}.member.{index}", out, depth + 1)
    elif kind == "map":
        for i in range(rnd.choice([0, 1, 2])):
            out.append((f"{prefix}.entry.{i + 1}.key", _text(rnd)))
            out.append((f"{prefix}.entry.{i + 1}.value", _text(rnd)))
    elif kind in QUERY_SCALARS:
        out.append((prefix, rnd.choice(QUERY_SCALARS[kind])))
    else:
        out.append((prefix, _text(rnd)))


def _json_value(rnd: random.Random, shape: Any, depth: int = 0) -> Any:
    if rnd.random() < 0.1:
        return rnd.choice([None, 5, -1, True, [], {}, "x" * 300, "", "r-abcd"])
    kind = shape.type_name
    if depth > 3:
        return None
    if kind == "structure":
        return {
            n: _json_value(rnd, m, depth + 1)
            for n, m in shape.members.items()
            if rnd.random() < 0.6 or n in shape.required_members
        }
    if kind == "list":
        return [_json_value(rnd, shape.member, depth + 1) for _ in range(rnd.randint(0, 2))]
    if kind == "map":
        return {_text(rnd): _json_value(rnd, shape.value, depth + 1)}
    if kind in ("integer", "long"):
        return rnd.choice([0, 1, 20, -3, 10**15, "5"])
    if kind == "boolean":
        return rnd.choice([True, False, "true"])
    return _text(rnd)


def _signed(server: Server, service: str, body: bytes, headers: dict[str, str]) -> AWSRequest:
    req = AWSRequest(method="POST", url=f"{server.endpoint}/", data=body, headers=headers)
    creds = Credentials(server.admin["access_key_id"], server.admin["secret_access_key"])
    SigV4Auth(creds, service, "us-east-1").add_auth(req)
    return req


def test_random_signed_requests_never_fail_internally(server: Server) -> None:
    rnd = random.Random(20261128)
    session = botocore.session.get_session()
    models = {name: session.get_service_model(name) for name in ("iam", "sts", "organizations")}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    failures = []
    for _ in range(2500):
        service = rnd.choice(["iam", "iam", "sts", "organizations"])
        model = models[service]
        op = model.operation_model(rnd.choice(model.operation_names))
        if service == "organizations":
            value = _json_value(rnd, op.input_shape) if op.input_shape is not None else {}
            body = json.dumps(value).encode()
            headers = {
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"AWSOrganizationsV20161128.{op.name}",
            }
        else:
            pairs: list[tuple[str, str]] = [("Action", op.name), ("Version", model.api_version)]
            if op.input_shape is not None:
                _query_pairs(rnd, op.input_shape, "", pairs)
            body = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        req = _signed(server, service, body, headers)
        conn.request("POST", "/", body=req.body, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        data = resp.read()
        if resp.status >= 500:
            failures.append((service, op.name, body[:300], data[:300]))
    assert not failures, failures[:5]
    assert "internal failure" not in server.server_log()
