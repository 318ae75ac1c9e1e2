"""``python -m rolegate.policy.cli``: evaluate one case, --jsonl, validate; register()."""

import argparse
import json
import subprocess
import sys

from rolegate.policy import cli

from .helpers import USER, doc, stmt

CASE = {
    "id": "c1",
    "policies": {
        "identity": [doc(stmt(action="s3:GetObject", Sid="A"))],
        "resource": None,
        "boundary": None,
        "session": [],
        "scp": [],
    },
    "request": {
        "principal": USER,
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "context": {},
    },
    "expected": "allow",
}


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "rolegate.policy.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
    )


def test_evaluate_stdin_and_file(tmp_path):
    p = run("evaluate", stdin=json.dumps(CASE))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out == {
        "decision": "allow",
        "matched": [
            {
                "policy_id": "identity[0]",
                "source_type": "identity",
                "index": 0,
                "sid": "A",
                "effect": "Allow",
            }
        ],
    }
    f = tmp_path / "case.json"
    f.write_text(json.dumps(CASE))
    assert json.loads(run("evaluate", str(f)).stdout)["decision"] == "allow"
    assert json.loads(run("policy", "evaluate", str(f)).stdout)["decision"] == "allow"


def test_evaluate_jsonl_in_order_with_ids(tmp_path):
    deny = json.loads(json.dumps(CASE))
    deny["id"] = "c2"
    deny["request"]["action"] = "s3:PutObject"
    f = tmp_path / "cases.jsonl"
    f.write_text(json.dumps(CASE) + "\n\n" + json.dumps(deny) + "\n")
    p = run("evaluate", "--jsonl", str(f))
    assert p.returncode == 0
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert [(x["id"], x["decision"]) for x in lines] == [("c1", "allow"), ("c2", "implicitDeny")]


def test_evaluate_bad_policy_reports_and_fails(tmp_path):
    bad = json.loads(json.dumps(CASE))
    bad["policies"]["identity"] = [
        {"Statement": {"Effect": "Maybe", "Action": "*", "Resource": "*"}}
    ]
    p = run("evaluate", stdin=json.dumps(bad))
    assert p.returncode == 1 and "Syntax errors in policy." in p.stderr
    f = tmp_path / "cases.jsonl"
    f.write_text(json.dumps(bad) + "\n" + json.dumps(CASE) + "\n")
    p = run("evaluate", "--jsonl", str(f))
    assert p.returncode == 1
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert "error" in lines[0] and lines[1]["decision"] == "allow"
    assert run("evaluate", stdin="not json").returncode == 1


def test_validate(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc(stmt())))
    p = run("validate", str(good))
    assert (p.returncode, p.stdout.strip()) == (0, "ok")
    p = run("validate", str(good), "--kind", "resource")
    assert p.returncode == 1 and "Principal" in p.stdout
    trust = tmp_path / "trust.json"
    trust.write_text(
        json.dumps(
            doc(stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": "123456789012"}))
        )
    )
    assert run("validate", str(trust), "--kind", "trust").returncode == 0
    p = run("validate", str(trust))
    assert p.returncode == 1 and p.stdout.startswith(
        "Policy document should not specify a principal."
    )


def test_register_into_parent_parser(capsys, tmp_path):
    parser = argparse.ArgumentParser(prog="rolegate")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    f = tmp_path / "p.json"
    f.write_text(json.dumps(doc(stmt())))
    args = parser.parse_args(["policy", "validate", str(f)])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_main_in_process(capsys, tmp_path):
    f = tmp_path / "p.json"
    f.write_text("{")
    assert cli.main(["validate", str(f)]) == 1
    assert "Syntax errors" in capsys.readouterr().out
