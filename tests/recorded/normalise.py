"""What legitimately varies from run to run, replaced by stable placeholders.

One ``Normaliser`` serves a whole run, so a generated value (an access key
id, a role id, a created account's id, a job id) gets the same placeholder
wherever it appears: ``<AKIA:3>`` in CreateAccessKey's answer, in the audit
event of a later call signed with it and in ListAccessKeys still name one
key. Placeholders are numbered by order of first appearance, per kind.

Request-local values are named after their role instead: the request id of
the answer being normalised is ``<request-id>``; audit ``eventID`` and
``sharedEventID`` are ``<event-id>``.

Timestamps: the server's request clock is scripted (harness.START onwards),
so its timestamps are kept, except the sub-second digits (``AppState.now()``
adds an offset to a fresh wall-clock read, so the fraction moves by a few
microseconds to milliseconds): those become ``f``s, the count of digits kept.
Timestamps from the wall clock (before harness.WALL_CLOCK_BEFORE_YEAR: what
start-up code writes) become ``<wall-clock>`` in the same format's shape.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from tests.recorded.harness import WALL_CLOCK_BEFORE_YEAR

FIXED_ACCOUNTS = {"123456789012", "000000000000"}

# Generated identifiers: AWS's unique ids and key ids, AWS's shapes.
_UNIQUE_ID = re.compile(
    r"\b(AKIA|ASIA|AIDA|AROA|ANPA|AGPA|AIPA|ANVA|ASCA|APKA|ACCA|ANPA|AGPA)[A-Z0-9]{16,17}\b"
)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_ORG_IDS = [
    ("o", re.compile(r"\bo-[a-z0-9]{10,32}\b")),
    ("r", re.compile(r"(?<![\w-])r-[a-z0-9]{4,32}\b")),
    ("ou", re.compile(r"\bou-[a-z0-9]{4,32}-[a-z0-9]{8,32}\b")),
    ("car", re.compile(r"\bcar-[a-z0-9]{8,32}\b")),
]
_ACCOUNT = re.compile(r"(?<![\d.])\d{12}(?![\d])")
_SIGNING_CERT_ID = re.compile(r"\b[A-Z0-9]{32}\b")
_ENCODED_MESSAGE = re.compile(r"(Encoded authorization failure message: )([A-Za-z0-9_\-+/=.]+)")

# Secret material, by the element (XML) or member (JSON) that carries it.
_SECRET_ELEMENTS = (
    "SecretAccessKey",
    "SessionToken",
    "ServicePassword",
    "Base32StringSeed",
    "QRCodePNG",
    "EncodedMessage",
)
_SECRET_MEMBERS = {name.lower(): name for name in _SECRET_ELEMENTS}
_XML_SECRET = re.compile(r"<(" + "|".join(_SECRET_ELEMENTS) + r")>([^<]*)</\1>")
_JSON_SECRET = re.compile(r'"(' + "|".join(_SECRET_ELEMENTS) + r')"(\s*:\s*)"([^"]*)"')
_XML_CONTENT = re.compile(r"<Content>([^<]*)</Content>")  # GetCredentialReport (base64 CSV)

_ISO = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?"
)
_CLOUDTRAIL_DATE = re.compile(
    r"\b([A-Z][a-z]{2}) (\d{1,2}), (\d{4}), (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)\b"
)
_EPOCH_FRACTION = re.compile(r"(?<![\d.])(2\d{9})\.(\d+)(?![\d])")


# Lists whose order follows a random id (access key ids, certificate ids,
# credential ids, created account ids): their members are put in a stable
# order (by their normalised text, so by placeholder, i.e. by first
# appearance) rather than recorded in the order of the random ids.
_XML_UNORDERED = re.compile(
    r"<(AccessKeyMetadata|Certificates|SSHPublicKeys|ServiceSpecificCredentials)>((?:<member>.*?</member>)+)</\1>",
    re.S,
)
_XML_MEMBER = re.compile(r"<member>.*?</member>", re.S)
_JSON_UNORDERED = ("Accounts", "Children", "CreateAccountStatuses")
# Paging tokens that carry state (base64 of JSON with ids and times).
_XML_MARKER = re.compile(r"<Marker>([^<]*)</Marker>")
_JSON_TOKEN = re.compile(r'"NextToken"(\s*:\s*)"([^"]*)"')


class Normaliser:
    def __init__(self) -> None:
        self._maps: dict[str, dict[str, str]] = {}

    def placeholder(self, kind: str, value: str) -> str:
        m = self._maps.setdefault(kind, {})
        if value not in m:
            m[value] = f"<{kind}:{len(m) + 1}>"
        return m[value]

    def text(self, s: str, request_id: str = "") -> str:
        if request_id:
            s = s.replace(request_id, "<request-id>")
        s = _XML_SECRET.sub(lambda m: f"<{m[1]}>{self.placeholder(m[1], m[2])}</{m[1]}>", s)
        s = _JSON_SECRET.sub(lambda m: f'"{m[1]}"{m[2]}"{self.placeholder(m[1], m[3])}"', s)
        s = _XML_CONTENT.sub(lambda m: "<Content>" + self._report(m[1]) + "</Content>", s)
        s = _ENCODED_MESSAGE.sub(lambda m: m[1] + self.placeholder("encoded-message", m[2]), s)
        s = _epoch_fractions(_unordered(self._ids_and_times(s, epochs=False)))
        s = _XML_MARKER.sub(lambda m: "<Marker>" + self._token(m[1]) + "</Marker>", s)
        return _JSON_TOKEN.sub(
            lambda m: f'"NextToken"{m[1]}"' + json.dumps(self._token(m[2]))[1:-1] + '"', s
        )

    def _token(self, token: str) -> str:
        """A paging token: what it encodes, normalised, when it is base64 text."""
        try:
            pad = "=" * (-len(token) % 4)
            raw = (
                base64.urlsafe_b64decode(token + pad)
                if ("-" in token or "_" in token)
                else base64.b64decode(token + pad)
            )
            text = raw.decode("utf-8")
        except Exception:
            return token
        if not text.isprintable():
            return token
        return "base64-of[" + self._ids_and_times(text) + "]"

    def _ids_and_times(self, s: str, epochs: bool = True) -> str:
        s = _UNIQUE_ID.sub(lambda m: self.placeholder(m[1], m[0]), s)
        s = _UUID.sub(lambda m: self.placeholder("uuid", m[0]), s)
        for kind, rx in _ORG_IDS:
            s = rx.sub(lambda m, k=kind: self.placeholder(k, m[0]), s)
        s = _ACCOUNT.sub(
            lambda m: m[0] if m[0] in FIXED_ACCOUNTS else self.placeholder("account", m[0]), s
        )
        s = _SIGNING_CERT_ID.sub(
            lambda m: self.placeholder("cert-id", m[0]) if _mixed(m[0]) else m[0], s
        )
        s = _ISO.sub(_iso, s)
        s = _CLOUDTRAIL_DATE.sub(_cloudtrail_date, s)
        return _epoch_fractions(s) if epochs else s

    def _report(self, b64: str) -> str:
        """The credential report, decoded (its CSV is checked, not its bytes)."""
        try:
            csv = base64.b64decode(b64, validate=True).decode("utf-8")
        except Exception:
            return self.placeholder("content", b64)
        return "base64-of[" + self._ids_and_times(csv) + "]"

    def value(self, v: Any, request_id: str = "") -> Any:
        """A JSON value (an audit event), normalised member by member."""
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if k in ("eventID", "sharedEventID") and isinstance(x, str):
                    out[k] = "<event-id>"
                elif k.lower() in ("nexttoken", "marker") and isinstance(x, str):
                    out[k] = self._token(x)
                elif k.lower() in _SECRET_MEMBERS and isinstance(x, str):
                    out[k] = self.placeholder(_SECRET_MEMBERS[k.lower()], x)
                else:
                    out[k] = self.value(x, request_id)
            return out
        if isinstance(v, list):
            return [self.value(x, request_id) for x in v]
        if isinstance(v, str):
            return self.text(v, request_id)
        if isinstance(v, float):
            return self.text(repr(v), request_id)
        return v


def _epoch_fractions(s: str) -> str:
    # Epoch seconds as JSON numbers (Organizations): how many fraction digits
    # a float prints depends on the fraction itself, so all become ".f".
    return _EPOCH_FRACTION.sub(lambda m: m[1] + ".f", s)


def _unordered(s: str) -> str:
    s = _XML_UNORDERED.sub(
        lambda m: f"<{m[1]}>" + "".join(sorted(_XML_MEMBER.findall(m[2]))) + f"</{m[1]}>", s
    )
    if s.startswith("{") and any(f'"{k}"' in s for k in _JSON_UNORDERED):
        s = _sorted_json_lists(s)
    return s


def _sorted_json_lists(s: str) -> str:
    """Sort the unordered lists of a JSON body, keeping its bytes' layout
    (left as it is when re-encoding would not reproduce it)."""
    try:
        doc = json.loads(s)
    except ValueError:
        return s
    for seps in ((",", ":"), (", ", ": ")):
        if json.dumps(doc, separators=seps, ensure_ascii=False) == s:
            break
    else:
        return s
    if isinstance(doc, dict):
        for k in _JSON_UNORDERED:
            if isinstance(doc.get(k), list):
                doc[k] = sorted(doc[k], key=lambda v: json.dumps(v, sort_keys=True))
    return json.dumps(doc, separators=seps, ensure_ascii=False)


def _mixed(s: str) -> bool:
    # A signing certificate id (32 of [A-Z0-9], random): has both letters and digits.
    return any(c.isdigit() for c in s) and any(c.isalpha() for c in s)


def _iso(m: re.Match[str]) -> str:
    year = int(m[1])
    frac = m[8] or ""
    if year < WALL_CLOCK_BEFORE_YEAR and year > 2000:
        return "<wall-clock" + (" with fraction" if frac else "") + (m[9] or "") + ">"
    if frac:
        frac = "." + "f" * (len(frac) - 1)
    return f"{m[1]}-{m[2]}-{m[3]}{m[4]}{m[5]}:{m[6]}:{m[7]}{frac}{m[9] or ''}"


def _cloudtrail_date(m: re.Match[str]) -> str:
    if 2000 < int(m[3]) < WALL_CLOCK_BEFORE_YEAR:
        return "<wall-clock cloudtrail-date>"
    return m[0]
