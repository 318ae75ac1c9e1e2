"""Seeded request bodies for the fuzzer: model-shaped parameters (from
botocore's service models), then mutated: wrong types, out-of-range
numbers, huge and deeply nested strings and JSON, unicode, missing
required and unknown members, and bodies that are empty, truncated or
random bytes.

Everything here is a pure function of a ``random.Random``: one seed, one
sequence of requests, so a failure replays.
"""

from __future__ import annotations

import base64
import contextvars
import json
import random
import re
import string
from typing import Any
from urllib.parse import quote

ACCOUNT = "123456789012"
# Half the cases are tame: mostly plausible values with a few mutations, so
# that they pass validation and reach the handlers; the rest are wild.
TAME: contextvars.ContextVar[bool] = contextvars.ContextVar("TAME", default=False)
# Names the driver creates before fuzzing, so calls get past their lookups.
# Never the admin's own name: a fuzzed boundary or detach on the admin would
# turn every later request into AccessDenied and blind the run.
KNOWN_NAMES = ("fz-user", "fz-role", "fz-group", "fz-policy", "s3-read")
KNOWN_ARNS = (
    f"arn:aws:iam::{ACCOUNT}:user/fz-user",
    f"arn:aws:iam::{ACCOUNT}:role/fz-role",
    f"arn:aws:iam::{ACCOUNT}:group/fz-group",
    f"arn:aws:iam::{ACCOUNT}:policy/fz-policy",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    f"arn:aws:iam::{ACCOUNT}:oidc-provider/127.0.0.1:1/fz",
    f"arn:aws:iam::{ACCOUNT}:saml-provider/fz-saml",
)
UNICODE = (
    "é",
    "\N{COLLISION SYMBOL}",
    "\u202eevil",
    "a\u0301\u0301\u0301",
    "\x00",
    "\ufeff",
    "\uffff",
    "名前",
    "\U0010ffff",
    "\r\n",
)
SCALARS = (
    "",
    " ",
    "a",
    "A" * 129,
    "-1",
    "0",
    "99999999999999999999",
    "1e400",
    "NaN",
    "%ZZ",
    "/",
    "/a/",
    "arn:",
    "arn:aws:iam::123456789012:",
    "*",
    "{}",
    "[]",
    "null",
    '{"Version":"2012-10-17","Statement":[]}',
    "AKIAAAAAAAAAAAAAAAAA",
    "ASIAAAAAAAAAAAAAAAAA",
    "2026-01-01T00:00:00Z",
    "r-abcd",
    "ou-abcd-12345678",
    "https://127.0.0.1:1/fz",
)
NUMBERS = ("0", "1", "-1", "900", "3600", "43201", "129600", "2147483648", "-9223372036854775809",
           "1.5", "1e3", "0x10", "", "abc", "\N{DIGIT ONE}", "١٢")  # fmt: skip
DEEP_CHARS = ("[", '{"a":', '{"Statement":', '{"Condition":{"StringEquals":{"k":')
POLICY_HINTS = ("Policy", "Document", "Statement")
TOKEN_HINTS = ("Token", "Marker", "Assertion", "EncodedMessage", "SAML")


def deep_json(rnd: random.Random, depth: int | None = None) -> str:
    depth = depth if depth is not None else rnd.choice((65, 200, 999, 1000, 1001, 5000, 50_000))
    opener = rnd.choice(DEEP_CHARS)
    closer = {"[": "]"}.get(opener, "}" * opener.count("{"))
    inner = "1" if opener != "[" else ""
    return opener * depth + inner + closer * depth


def policy_text(rnd: random.Random) -> str:
    r = rnd.random()
    if r < 0.25:
        return deep_json(rnd)
    statement: dict[str, Any] = {
        "Effect": rnd.choice(["Allow", "Deny", "allow", 1, None]),
        "Action": rnd.choice(["*", "s3:*", ["iam:Get*", "sts:AssumeRole"], "", 5, {"a": 1}]),
        "Resource": rnd.choice(["*", "arn:aws:s3:::b/*", [], ["*"] * 3, None]),
    }
    if rnd.random() < 0.3:
        statement["Principal"] = rnd.choice(["*", {"AWS": "*"}, {"AWS": ACCOUNT}, {"Federated": 1}])
    if rnd.random() < 0.3:
        statement["Condition"] = rnd.choice(
            [
                {"StringEquals": {"aws:username": "${aws:username}"}},
                {"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}},
                {"NumericLessThan": {"k": ["1e400", "x"]}},
                {"DateGreaterThan": {"aws:CurrentTime": "not-a-date"}},
                {"ForAnyValue:StringLike": {"k": "*" * 3000}},
                {"Bool": {"k": [[[]]]}},
            ]
        )
    doc: Any = {"Version": rnd.choice(["2012-10-17", "2008-10-17", "x"]), "Statement": [statement]}
    if r < 0.35:
        doc["Statement"] = [statement] * rnd.randint(0, 300)
    if r > 0.9:
        doc["Id"] = "x" * rnd.randint(0, 20_000)
    text = json.dumps(doc)
    if rnd.random() < 0.1:
        text = text[: rnd.randint(0, len(text))]
    return text


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_text(rnd: random.Random, member: str, valid_tokens: list[str]) -> str:
    """Something that looks like the token ``member`` carries, usually broken."""
    r = rnd.random()
    if "WebIdentity" in member or r < 0.15:
        header: Any = {"alg": rnd.choice(["RS256", "none", "HS256", "ES512", 7]), "kid": "k"}
        payload: Any = {"iss": rnd.choice(["https://127.0.0.1:1/fz", "x", 5]), "sub": "s",
                        "aud": "fz", "exp": rnd.choice([0, 2**70, "x", 1e400])}  # fmt: skip
        if rnd.random() < 0.4:
            header = deep_json(rnd, rnd.choice((65, 999, 2000)))
        if rnd.random() < 0.4:
            payload = deep_json(rnd, rnd.choice((200, 1000, 2000)))
        parts = [h if isinstance(h, str) else json.dumps(h) for h in (header, payload)]
        segs = [_b64url(p.encode()) for p in parts] + [_b64url(rnd.randbytes(rnd.randint(0, 64)))]
        if rnd.random() < 0.2:
            segs[rnd.randrange(3)] += rnd.choice(["=", "!", "A", ".", "+"])
        return ".".join(segs)
    if "SAML" in member or "Assertion" in member:
        xml = rnd.choice(
            [
                "<a>" * 5000 + "</a>" * 5000,
                '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                "<samlp:Response>&b;</samlp:Response>",
                "<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>",
                "not xml",
                "",
            ]
        ).encode()
        text = base64.b64encode(xml).decode()
        return text if rnd.random() < 0.8 else text[:-1] + rnd.choice("AB=\n!")
    if valid_tokens and r < 0.6:
        return mutate_token(rnd, rnd.choice(valid_tokens))
    if r < 0.8:
        return base64.urlsafe_b64encode(deep_json(rnd).encode()).decode()
    return rnd.choice(["", "=", "e30=", "x" * rnd.randint(1, 30_000), _b64url(rnd.randbytes(40))])


def mutate_token(rnd: random.Random, token: str) -> str:
    if not token:
        return "A"
    i = rnd.randrange(len(token))
    edit = rnd.randrange(5)
    if edit == 0:
        return token[:i] + rnd.choice(string.ascii_letters + "-_=+/") + token[i + 1 :]
    if edit == 1:
        return token[:i]
    if edit == 2:
        return token + rnd.choice(["=", "==", "A", "\n"])
    if edit == 3:
        last = token[-1]
        return token[:-1] + rnd.choice(string.ascii_letters.replace(last, "") or "A")
    return token


def text(rnd: random.Random, member: str = "", valid_tokens: list[str] | None = None) -> str:
    r = rnd.random()
    if any(h in member for h in POLICY_HINTS) and r < 0.6:
        return policy_text(rnd)
    if any(h in member for h in TOKEN_HINTS) and r < 0.6:
        return token_text(rnd, member, valid_tokens or [])
    if r < 0.25:
        return rnd.choice(KNOWN_NAMES + KNOWN_ARNS)
    if r < 0.55:
        return rnd.choice(SCALARS)
    if r < 0.65:
        return "".join(rnd.choice(UNICODE) for _ in range(rnd.randint(1, 40)))
    if r < 0.7:
        return rnd.choice("ax*?/é") * rnd.choice((128, 129, 1000, 70_000))
    if r < 0.75:
        return deep_json(rnd)
    return "".join(rnd.choice(string.printable) for _ in range(rnd.randint(0, 40)))


def _number(rnd: random.Random) -> str:
    return rnd.choice(NUMBERS)


def plausible(rnd: random.Random, shape: Any, member: str, tokens: list[str]) -> str:
    """A value that may well pass the model's validation, so that the case
    reaches the handler: the enum, a known name or ARN that fits the length,
    a number within range, a policy or token for members that hold them."""
    meta = getattr(shape, "metadata", {}) or {}
    enum = getattr(shape, "enum", None)
    if enum:
        return rnd.choice(list(enum))
    kind = shape.type_name
    if kind in ("integer", "long"):
        lo, hi = int(meta.get("min", 0)), int(meta.get("max", 1000))
        return str(rnd.choice((lo, hi, lo + 1, (lo + hi) // 2, hi + 1, lo - 1)))
    if kind == "boolean":
        return rnd.choice(("true", "false"))
    if any(h in member for h in POLICY_HINTS):
        return policy_text(rnd)
    if any(h in member for h in TOKEN_HINTS):
        return token_text(rnd, member, tokens)
    lo, hi = int(meta.get("min", 0)), int(meta.get("max", 10_000))
    fits = [v for v in KNOWN_NAMES + KNOWN_ARNS if lo <= len(v) <= hi]
    if "Arn" in member or "ARN" in member:
        fits = [v for v in fits if v.startswith("arn:")] or fits
    return rnd.choice(fits) if fits else "a" * max(lo, 1)


# ---------------------------------------------------------------- Query


# Bodies a little past the server's 2 MiB limit, so the limit is exercised
# but no case costs more than a few milliseconds to make and sign.
MAX_BODY_BUDGET = 2_300_000


def _spent(out: list[tuple[str, str]]) -> int:
    return sum(len(k) + len(v) for k, v in out)


def query_pairs(
    rnd: random.Random, shape: Any, prefix: str, out: list[tuple[str, str]],
    tokens: list[str], depth: int = 0,
) -> None:  # fmt: skip
    """Model-shaped ``(name, value)`` pairs for the Query protocol, mutated."""
    if depth > 6 or (len(out) % 64 == 0 and _spent(out) > MAX_BODY_BUDGET):
        return
    kind = shape.type_name
    if rnd.random() < (0.01 if TAME.get() else 0.04):  # the wrong shape entirely
        kind = rnd.choice(("structure", "list", "map", "string", "integer"))
    if kind == "structure" and hasattr(shape, "members"):
        for name, member in shape.members.items():
            required = name in shape.required_members
            if rnd.random() < (0.9 if required else 0.4) + (0.09 if TAME.get() and required else 0):
                key = f"{prefix}.{name}" if prefix else name
                query_pairs(rnd, member, key, out, tokens, depth + 1)
        if rnd.random() < 0.05:
            out.append((f"{prefix}.Bogus" if prefix else "Bogus", text(rnd)))
    elif kind == "list" and hasattr(shape, "member"):
        n = rnd.choice((0, 1, 1, 2, 3, 300)) if rnd.random() < 0.97 else 2000
        if depth > 1:
            n = min(n, 3)
        for i in range(n):
            index = rnd.choice((i + 1,) * 6 + (0, -1, 99999, "x", "01", ""))
            query_pairs(rnd, shape.member, f"{prefix}.member.{index}", out, tokens, depth + 1)
    elif kind == "map" and hasattr(shape, "key"):
        for i in range(rnd.choice((0, 1, 2, 60))):
            out.append((f"{prefix}.entry.{i + 1}.key", text(rnd)))
            query_pairs(rnd, shape.value, f"{prefix}.entry.{i + 1}.value", out, tokens, depth + 1)
    elif TAME.get() and rnd.random() < 0.85 and kind != "blob":
        out.append((prefix, plausible(rnd, shape, prefix, tokens)))
    elif kind in ("integer", "long", "double", "float"):
        out.append((prefix, _number(rnd) if rnd.random() < 0.8 else text(rnd)))
    elif kind == "boolean":
        out.append((prefix, rnd.choice(("true", "false", "TRUE", "1", "", "yes"))))
    elif kind == "timestamp":
        out.append(
            (prefix, rnd.choice(("2026-01-01T00:00:00Z", "1767225600", "bad", "", "9" * 30)))
        )
    elif kind == "blob":
        out.append((prefix, rnd.choice(("aGVsbG8=", "aGVsbG8", "!!!", "", "A" * 5, "QR=="))))
    else:
        out.append((prefix, text(rnd, prefix, tokens)))


_ESCAPED = [f"%{b:02X}".encode() for b in range(256)]
_UNSAFE_RUN = re.compile(rb"[^A-Za-z0-9_.~-]+")


def _escape_run(m: re.Match[bytes]) -> bytes:
    return b"".join([_ESCAPED[b] for b in m[0]])


def _quote(data: bytes) -> str:
    """``quote(data, safe="")``: the same text up to 4 KiB. The generators make
    values of megabytes, and quote's per-byte Python loop was 60% of a fuzz
    run's time; a long value is escaped whole at C speed instead (every byte
    as %XX, which decodes to the same value)."""
    if len(data) > 4096:
        return "%" + data.hex("%").upper()
    return _UNSAFE_RUN.sub(_escape_run, data).decode("ascii")


def encode_pairs(rnd: random.Random, pairs: list[tuple[str, str]]) -> bytes:
    parts = []
    for k, v in pairs:
        value = _quote(v.encode("utf-8", "surrogatepass"))
        if rnd.random() < 0.01:
            value = rnd.choice(("%ED%A0%80", "%FF%FE", "%", "%4", "+", "%00"))
        parts.append(f"{quote(k, safe='')}={value}")
    return "&".join(parts).encode()


# ---------------------------------------------------------------- JSON 1.1


def json_value(rnd: random.Random, shape: Any, tokens: list[str], depth: int = 0) -> Any:
    if rnd.random() < 0.06:
        return rnd.choice([None, 5, -1, 2**64, 1.5, True, [], {}, "x" * 300, "", "r-abcd"])
    if depth > 6:
        return None
    kind = shape.type_name
    if kind == "structure" and hasattr(shape, "members"):
        out = {
            n: json_value(rnd, m, tokens, depth + 1)
            for n, m in shape.members.items()
            if rnd.random() < 0.5 or (n in shape.required_members and rnd.random() < 0.9)
        }
        if rnd.random() < 0.05:
            out["Bogus"] = text(rnd)
        return out
    if kind == "list":
        n = rnd.randint(0, 3) if depth else rnd.choice((0, 1, 2, 3, 300))
        return [json_value(rnd, shape.member, tokens, depth + 1) for _ in range(n)]
    if kind == "map":
        return {text(rnd): json_value(rnd, shape.value, tokens, depth + 1) for _ in range(2)}
    if TAME.get() and rnd.random() < 0.85 and kind in ("string", "integer", "long"):
        value = plausible(rnd, shape, shape.name, tokens)
        return int(value) if kind != "string" else value
    if kind in ("integer", "long"):
        return rnd.choice([0, 1, 20, 21, -3, 10**15, 2**63, "5", 1.0])
    if kind == "boolean":
        return rnd.choice([True, False, "true", 0])
    if kind == "timestamp":
        return rnd.choice([0, 1767225600, "2026-01-01T00:00:00Z", -1e300])
    return text(rnd, shape.name, tokens)


def json_body(rnd: random.Random, shape: Any, tokens: list[str]) -> bytes:
    value = json_value(rnd, shape, tokens) if shape is not None else {}
    text = json.dumps(value).encode()
    if len(text) > MAX_BODY_BUDGET:
        return text[:MAX_BODY_BUDGET]
    r = rnd.random()
    if r < 0.03:
        return ("[" * 100_000).encode()
    if r < 0.06:
        return b'{"NextToken": ' + b"1" * 5000 + b"}"
    if r < 0.08:
        return b'{"a": NaN, "b": Infinity, "c": -Infinity}'
    return text


# ---------------------------------------------------------------- bodies


def mangle_body(rnd: random.Random, body: bytes) -> bytes:
    """Now and then, what arrives is not what the client meant to send."""
    r = rnd.random()
    if r < 0.02:
        return b""
    if r < 0.05:
        return body[: rnd.randint(0, len(body))]
    if r < 0.06:
        return rnd.randbytes(rnd.randint(1, 2000))
    if r < 0.065:
        return body + b"&" + b"&".join([b"A=B"] * 20_000)
    return body
