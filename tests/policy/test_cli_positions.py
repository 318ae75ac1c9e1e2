"""``rolegate policy validate`` says where a document fails: line and column for JSON
syntax, the JSON path (``Statement[0].Condition.StringEquals``) for the rest; the
API keeps AWS's bare message."""

from __future__ import annotations

import json

import pytest

from rolegate.errors import MalformedPolicyDocument
from rolegate.policy import PolicyKind, parse_policy
from rolegate.policy.cli import main
from rolegate.policy.elements import SYNTAX_MSG, PolicySyntaxError


def validate(tmp_path, capsys, text: str, *args: str) -> tuple[int, str]:
    f = tmp_path / "p.json"
    f.write_text(text)
    status = main(["validate", str(f), *args])
    return status, capsys.readouterr().out


BAD_JSON = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow" "Action": "*"}\n  ]\n}\n'


def test_json_syntax_error_has_line_and_column(tmp_path, capsys):
    status, out = validate(tmp_path, capsys, BAD_JSON)
    assert status == 1
    first, second = out.splitlines()
    assert first == SYNTAX_MSG
    assert second.startswith("  at line 4, column 24")
    assert "Expecting ',' delimiter" in second


def stmt(**kw):
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **kw}


def doc(*statements, **top):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements), **top})


CASES = [
    (doc(stmt(Condition={"StringEquals": "x"})), "Statement[0].Condition.StringEquals"),
    (
        doc(stmt(), stmt(Condition={"NumericLessThan": {"k": "abc"}})),
        "Statement[1].Condition.NumericLessThan.k",
    ),
    (doc(stmt(), {"Effect": "Allow", "Resource": "*"}), "Statement[1]"),
    (doc(stmt(Action="GetObject")), "Statement[0].Action"),
    (doc(stmt(Resource="bucket")), "Statement[0].Resource"),
    (doc(stmt(Sid="has space")), "Statement[0].Sid"),
    (doc(stmt(Sid="A"), stmt(Sid="A")), "Statement[1].Sid"),
    (doc(stmt(Principal="*")), "Statement[0].Principal"),
    (doc(stmt(Effect="Maybe")), "Statement[0].Effect"),
    (doc(stmt(Bogus=1)), "Statement[0].Bogus"),
    (doc(stmt(Action=[1])), "Statement[0].Action"),
    (json.dumps({"Version": "2012-10-17", "Statement": stmt(Resource=[])}), "Statement"),
    (json.dumps({"Version": "2013-01-01", "Statement": [stmt()]}), "Version"),
    (json.dumps({"Version": "2012-10-17", "Statement": []}), "Statement"),
    (json.dumps({"Statement": [stmt()], "Extra": 1}), "Extra"),
]


@pytest.mark.parametrize("text, path", CASES)
def test_schema_error_has_json_path(tmp_path, capsys, text, path):
    status, out = validate(tmp_path, capsys, text)
    assert status == 1
    assert out.splitlines()[1] == f"  at {path}"


def test_api_message_unchanged_and_error_is_malformed(tmp_path, capsys):
    with pytest.raises(MalformedPolicyDocument) as e:
        parse_policy(doc(stmt(Condition={"StringEquals": "x"})), PolicyKind.IDENTITY)
    assert e.value.message == SYNTAX_MSG and e.value.code == "MalformedPolicyDocument"
    assert isinstance(e.value, PolicySyntaxError)
    assert e.value.path == "Statement[0].Condition.StringEquals"


def test_json_output(tmp_path, capsys):
    status, out = validate(tmp_path, capsys, BAD_JSON, "--json")
    assert status == 1
    got = json.loads(out)
    assert got["error"] == SYNTAX_MSG and got["line"] == 4 and got["column"] == 24
    status, out = validate(tmp_path, capsys, doc(stmt(Sid="x y")), "--json")
    got = json.loads(out)
    assert got["path"] == "Statement[0].Sid" and got["line"] is None
    status, out = validate(tmp_path, capsys, doc(stmt()), "--json")
    assert (status, json.loads(out)) == (0, {"ok": True})
