"""``rolegate`` — the command line (fixed interface in DESIGN.md)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rolegate.appstate import Settings
from rolegate.errors import AwsError
from rolegate.policy import cli as policy_cli
from rolegate.serve_options import add_limit_args, port_taken, resolve_limits

# Each command imports the store, the server, uvicorn, bootstrap or STS
# inside its function, and only those (tests/test_layers.py lists them): not
# to dodge a cycle but so that `rolegate --help`, `rolegate policy ...` and
# argument errors start without them (python -X importtime: rolegate.store
# 345 ms with SQLAlchemy and Alembic, rolegate.server 464 ms with botocore's
# models and every handler, against about 0.1 s for this module).


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=os.environ.get("ROLEGATE_DATA_DIR", "./data"))
    p.add_argument("--database-url", default=os.environ.get("ROLEGATE_DATABASE_URL") or None)


def _open_store(args: argparse.Namespace) -> Any:
    from rolegate.store import Store

    if args.data_dir and not args.database_url:
        os.makedirs(args.data_dir, exist_ok=True)
    return Store.open(data_dir=args.data_dir, database_url=args.database_url)


class MissingState(Exception):
    """What a command that must not create state found missing (its message)."""


def _check_existing_store(args: argparse.Namespace) -> None:
    """Refuse, naming what is missing, unless the store and its master key
    exist: opening would otherwise create an empty database (SQLite's file
    on connect, PostgreSQL's tables by migrating) or a new ``master.key``
    that does not match the server's."""
    from rolegate.store import engine, migrate
    from rolegate.store.crypto import MASTER_KEY_ENV, MASTER_KEY_FILE

    data_dir = Path(args.data_dir).resolve() if args.data_dir else None
    url = engine.resolve_url(data_dir, args.database_url)
    if url.get_backend_name() == "sqlite":
        db = Path(url.database or "").resolve()
        if not url.database or url.database == ":memory:" or not db.is_file():
            raise MissingState(
                f"no store at {db}: start one with `rolegate serve` (or `make run`, or "
                "`rolegate bootstrap`) for this data dir, or pass the server's "
                "--data-dir / --database-url"
            )
    else:
        eng = engine.create_postgres_engine(url, schema=None)
        try:
            with eng.connect() as conn:
                revision = migrate.current_revision(conn)
        except Exception as e:  # unreachable, refused, no such database: say so
            where = url.render_as_string(hide_password=True)
            raise MissingState(f"cannot read {where}: {type(e).__name__}") from None
        finally:
            eng.dispose()
        if revision is None:
            where = url.render_as_string(hide_password=True)
            raise MissingState(
                f"no rolegate store in {where} (no tables yet): start `rolegate serve` "
                "or run `rolegate bootstrap` with this --database-url first"
            )
    if not os.environ.get(MASTER_KEY_ENV):
        key_file = data_dir / MASTER_KEY_FILE if data_dir else None
        if key_file is None or not key_file.is_file():
            looked = f"and {key_file} does not exist" if key_file else "and no --data-dir is given"
            raise MissingState(
                f"the master key is missing: {MASTER_KEY_ENV} is not set {looked}. "
                f"Use the server's key: set {MASTER_KEY_ENV} as the server has it, or pass "
                f"the --data-dir holding its {MASTER_KEY_FILE}"
            )


def _open_existing_store(args: argparse.Namespace) -> Any:
    """The server's store, for commands that must never create one."""
    from rolegate.store import MasterKeyError, Store

    _check_existing_store(args)
    try:
        return Store.open(data_dir=args.data_dir, database_url=args.database_url)
    except MasterKeyError as e:
        raise MissingState(
            f"master key rejected: {e}. Use the key the server uses "
            "(ROLEGATE_MASTER_KEY, or master.key in its data dir)"
        ) from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    resolve_limits(args)

    settings = Settings(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        database_url=args.database_url,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        workers=args.workers,
    )
    if settings.data_dir and not settings.database_url:
        os.makedirs(settings.data_dir, exist_ok=True)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("rolegate: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    # Audit rows are committed by a child process of each worker
    # (rolegate.audit.sink) while workers leave cores idle; with a worker per
    # core the children would only take CPU from them (AssumeRole on two
    # workers here: 2,252 req/s in a thread, 2,099 in child processes).
    # ROLEGATE_AUDIT_PROCESS=1 or 0 decides instead.
    os.environ.setdefault(
        "ROLEGATE_AUDIT_PROCESS", "1" if args.workers < (os.cpu_count() or 1) else "0"
    )
    # Workers re-create the app from the environment (uvicorn's factory mode).
    os.environ.update(
        ROLEGATE_HOST=settings.host,
        ROLEGATE_PORT=str(settings.port),
        ROLEGATE_DATA_DIR=settings.data_dir or "",
        ROLEGATE_DATABASE_URL=settings.database_url or "",
        ROLEGATE_TLS_CERT=settings.tls_cert or "",
        ROLEGATE_TLS_KEY=settings.tls_key or "",
        # Read by rolegate.http_protocol, in every worker.
        ROLEGATE_HEADER_TIMEOUT=str(args.header_timeout),
        ROLEGATE_BODY_TIMEOUT=str(args.body_timeout),
    )
    kwargs: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        server_header=False,
        # uvicorn would otherwise believe X-Forwarded-For/-Proto from any
        # loopback peer, letting a local client pick its aws:SourceIp and
        # aws:SecureTransport; ROLEGATE_TRUST_PROXY opts in, in the app.
        proxy_headers=False,
        # httptools, with each pass's responses written together
        # (rolegate.http_protocol).
        http="rolegate.http_protocol:DeferredFlushProtocol",
        loop="uvloop",
        timeout_keep_alive=args.keepalive_timeout,
        timeout_graceful_shutdown=10,
        limit_concurrency=args.max_connections,
        backlog=args.backlog,
    )
    if args.tls_cert:
        kwargs.update(ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)
    taken = port_taken(settings.host, settings.port)
    if taken:
        print(f"rolegate: {taken}", file=sys.stderr)
        return 1
    scheme = "https" if args.tls_cert else "http"
    print(
        f"rolegate serving STS, IAM and Organizations on {scheme}://{settings.host}:{settings.port}",
        flush=True,
    )
    if args.workers > 1:
        uvicorn.run("rolegate.server:app_factory", factory=True, workers=args.workers, **kwargs)
    else:
        # With --workers N this process only supervises: the workers are
        # spawned and import the app themselves (app_factory above).
        from rolegate.server import RolegateApp

        uvicorn.run(RolegateApp(settings), **kwargs)
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from rolegate.bootstrap import bootstrap

    store = _open_store(args)
    try:
        out = bootstrap(store, args.account_id, new_key=args.new_key)
        out.pop("key_created", None)  # the fixed output is the four fields
    except AwsError as e:
        print(f"rolegate: {e.code}: {e.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


def cmd_run_local(args: argparse.Namespace) -> int:
    """`make run`: bootstrap once, print how to point the AWS CLI here, serve."""
    from rolegate.bootstrap import bootstrap

    resolve_limits(args)
    # Before anything is created or printed: a taken port would otherwise
    # show up after the banner, as a uvicorn error.
    taken = port_taken(args.host, args.port)
    if taken:
        print(f"rolegate: {taken}", file=sys.stderr)
        return 1
    store = _open_store(args)
    try:
        creds = bootstrap(store, reveal_existing=False)
    finally:
        store.close()
    endpoint = f"http://{args.host}:{args.port}"
    if creds["key_created"]:
        # The only time it is shown: the store keeps it sealed, and nothing
        # writes it anywhere in clear to show it again.
        key_lines = (
            f"  export AWS_ACCESS_KEY_ID={creds['access_key_id']}\n"
            f"  export AWS_SECRET_ACCESS_KEY={creds['secret_access_key']}\n"
        )
        intro = (
            "\nrolegate is starting. The administrator's secret access key is shown this once:"
            " keep it.\nPoint the AWS CLI (or boto3) at rolegate with:\n\n"
        )
    else:
        key_lines = f"  export AWS_ACCESS_KEY_ID={creds['access_key_id']}\n"
        intro = (
            f"\nrolegate is starting. The administrator's access key is {creds['access_key_id']};"
            " its secret was printed\nat the first start and is not shown again. For a new key"
            " (printed once):\n\n"
            f"  {_rolegate_cmd()} bootstrap --new-key --data-dir {args.data_dir}\n\n"
            "Point the AWS CLI (or boto3) at rolegate with the key's secret and:\n\n"
        )
    print(
        intro + key_lines + f"  export AWS_ENDPOINT_URL={endpoint}\n"
        "  export AWS_DEFAULT_REGION=us-east-1\n"
        "  unset AWS_SESSION_TOKEN AWS_PROFILE\n\n"
        "  aws sts get-caller-identity\n"
        "  aws iam list-users\n",
        flush=True,
    )
    args.tls_cert = args.tls_key = None
    args.workers = 1
    return cmd_serve(args)


def _rolegate_cmd() -> str:
    """How to run this rolegate: its path when it is not on PATH (make run's .venv)."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "rolegate"
    name = os.path.basename(argv0)
    if name != "rolegate":
        return "rolegate"
    found = shutil.which("rolegate")
    if found and os.path.realpath(found) == os.path.realpath(argv0):
        return "rolegate"
    return os.path.relpath(argv0) if not os.path.isabs(argv0) else argv0


def cmd_keys(args: argparse.Namespace) -> int:
    store = _open_existing_store(args)
    try:
        if args.keys_cmd == "rotate":
            key_id = "k" + secrets.token_hex(4)
            store.add_sealing_key(key_id, secrets.token_bytes(32))
            print(json.dumps({"added": key_id}))
        elif args.keys_cmd == "retire":
            return _retire_key(store, args.key_id)
        else:
            rows = store.sealing_keys()
            print(
                json.dumps(
                    [
                        {
                            "key_id": r[0],
                            "created_at": str(r[2]),
                            "retired_at": None if r[3] is None else str(r[3]),
                        }
                        for r in rows
                    ],
                    indent=2,
                )
            )
    finally:
        store.close()
    return 0


def _retire_key(store: Any, key_id: str) -> int:
    """``keys retire``: refuse a key id that does not exist, and the last
    active key (the server would silently make a new one)."""
    from rolegate.store import LastActiveSealingKey

    states = dict(store.sealing_key_states())
    if key_id not in states:
        known = ", ".join(sorted(states)) or "none"
        print(
            f"rolegate: no sealing key {key_id!r} (known: {known}; see rolegate keys list)",
            file=sys.stderr,
        )
        return 1
    try:
        was_active = store.retire_sealing_key(key_id, keep_one_active=True)
    except LastActiveSealingKey:
        print(
            f"rolegate: sealing key {key_id!r} is the only active key; "
            "rotate first: rolegate keys rotate",
            file=sys.stderr,
        )
        return 1
    if not was_active:
        print(f"rolegate: sealing key {key_id!r} was already retired", file=sys.stderr)
    print(json.dumps({"retired": key_id}))
    return 0


def _parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    t = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if t[-1:] in units and t[:-1].isdigit():
        return datetime.fromtimestamp(time.time() - int(t[:-1]) * units[t[-1]], tz=UTC)
    dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _format_event(ev: dict[str, Any]) -> str:
    ident = ev.get("userIdentity") or {}
    who = ident.get("arn") or ident.get("type", "-")
    outcome = ev.get("errorCode") or "OK"
    line = f"{ev.get('eventTime')} {ev.get('eventSource', '').split('.')[0]}:{ev.get('eventName')} {who} {outcome}"
    # Which role, under which session name: what an AssumeRole* line is
    # read for. The role comes from the request, else from the resources
    # (CloudTrail lists the role there for the federated calls too).
    params = ev.get("requestParameters") or {}
    role = params.get("roleArn") or next(
        (
            r.get("ARN")
            for r in ev.get("resources") or []
            if isinstance(r, dict) and r.get("type") == "AWS::IAM::Role"
        ),
        None,
    )
    if role:
        line += f" role={role}"
    if params.get("roleSessionName"):
        line += f" session={params['roleSessionName']}"
    return line


def cmd_audit(args: argparse.Namespace) -> int:
    store = _open_existing_store(args)
    try:
        if args.audit_cmd == "tail":
            rows = store.query_events()
            rows = rows[-args.n :] if args.n else rows
            last = rows[-1][0] if rows else 0
            for _, ev in rows:
                print(json.dumps(ev) if args.json else _format_event(ev), flush=True)
            while args.follow:
                time.sleep(0.5)
                for seq, ev in store.query_events(after_seq=last):
                    last = seq
                    print(json.dumps(ev) if args.json else _format_event(ev), flush=True)
        else:
            rows = store.query_events(
                event_name=args.event_name,
                user_arn=args.user,
                since=_parse_since(args.since),
                account_id=args.account,
                limit=args.limit,
            )
            events = [ev for _, ev in rows]
            if args.json:
                print(json.dumps(events, indent=2))
            else:
                for ev in events:
                    print(_format_event(ev))
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0


def cmd_roles(args: argparse.Namespace) -> int:
    from rolegate.sts.revoke import revoke_older_sessions

    store = _open_existing_store(args)
    try:
        revoke_older_sessions(store, args.account, args.role, datetime.now(UTC))
        print(f"revoked sessions of role {args.role} in {args.account} issued before now")
    except AwsError as e:
        print(f"rolegate: {e.code}: {e.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rolegate", description="Self-hosted AWS-compatible STS and IAM"
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="serve STS, IAM and Organizations")
    s.add_argument("--host", default=os.environ.get("ROLEGATE_HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("ROLEGATE_PORT", "8080")))
    _store_args(s)
    s.add_argument("--tls-cert")
    s.add_argument("--tls-key")
    s.add_argument("--workers", type=int, default=1)
    add_limit_args(s)
    s.set_defaults(func=cmd_serve)

    r = sub.add_parser("run-local", help="bootstrap, print AWS CLI settings and serve (make run)")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, default=8080)
    _store_args(r)
    add_limit_args(r)
    r.set_defaults(func=cmd_run_local)

    b = sub.add_parser("bootstrap", help="create the first account and its admin (idempotent)")
    _store_args(b)
    b.add_argument("--account-id", default="123456789012")
    b.add_argument("--json", action="store_true")
    b.add_argument("--new-key", action="store_true", help="issue a new access key for admin")
    b.set_defaults(func=cmd_bootstrap)

    k = sub.add_parser("keys", help="session-token sealing keys")
    ksub = k.add_subparsers(dest="keys_cmd", required=True)
    for name in ("rotate", "list"):
        kp = ksub.add_parser(name)
        _store_args(kp)
    kr = ksub.add_parser("retire")
    kr.add_argument("key_id")
    _store_args(kr)
    k.set_defaults(func=cmd_keys)

    a = sub.add_parser("audit", help="read the audit log")
    asub = a.add_subparsers(dest="audit_cmd", required=True)
    at = asub.add_parser("tail")
    at.add_argument("-n", type=int, default=20)
    at.add_argument("--follow", "-f", action="store_true")
    at.add_argument("--json", action="store_true")
    _store_args(at)
    aq = asub.add_parser("query")
    aq.add_argument("--event-name")
    aq.add_argument("--user", help="userIdentity ARN")
    aq.add_argument("--since", help="ISO 8601 time or a relative age like 15m, 2h, 1d")
    aq.add_argument("--account")
    aq.add_argument("--limit", type=int)
    aq.add_argument("--json", action="store_true")
    _store_args(aq)
    a.set_defaults(func=cmd_audit)

    ro = sub.add_parser("roles", help="role operations")
    rsub = ro.add_subparsers(dest="roles_cmd", required=True)
    rv = rsub.add_parser("revoke-sessions", help="deny all sessions of a role issued before now")
    rv.add_argument("account")
    rv.add_argument("role")
    _store_args(rv)
    ro.set_defaults(func=cmd_roles)

    policy_cli.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MissingState as e:
        print(f"rolegate: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `rolegate ... | head`: the reader left, not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
