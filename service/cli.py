"""`baomi serve | worker | audit verify | user ... | apikey ... | purge`: the service's commands,
added to the `baomi` command line through the entry-point group `baomi.commands`
(pyproject.toml: `service = "service.cli:add_commands"`; scanner.cli discovers it)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
from pathlib import Path

from sqlalchemy import func, select

DEMO_ROLES = (("author", "作者（演示）"), ("reviewer", "保密审查员（演示）"),
              ("approver", "审批人（演示）"), ("admin", "管理员（演示）"), ("inspector", "保密检查员（演示）"))


def _settings(args):
    from .settings import Settings
    kw = {}
    for name in ("data_dir", "db_url", "host", "port", "workers"):
        v = getattr(args, name, None)
        if v is not None:
            kw[name] = v
    return Settings(**kw)


def _state(args, load_scanner=False):
    from .state import ServiceState
    return ServiceState.build(_settings(args), load_scanner=load_scanner)


def ensure_demo_accounts(st) -> list[tuple[str, str, str]] | None:
    """On first start (no users yet): author/reviewer/approver/admin/inspector with random passwords and
    a CMS API key. Returns [(username, role, password)] plus ('cms-key', 'apikey', key)."""
    from . import audit
    from .models import User
    from .accounts import make_key
    from .security import hash_password
    with st.db.write() as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            return None
        out = []
        for role, name in DEMO_ROLES:
            pw = secrets.token_urlsafe(9)
            u = User(username=role, display_name=name, role=role, password_hash=hash_password(pw))
            s.add(u)
            s.flush()
            audit.append(s, audit.SYSTEM, "user.created", "user", str(u.id), after={"username": role, "role": role, "demo": True})
            out.append((role, role, pw))
        cms = User(username="cms", display_name="门户网站 CMS（演示）", role="author",
                   password_hash=hash_password(secrets.token_urlsafe(24)))
        s.add(cms)
        s.flush()
        _, key = make_key(s, audit.SYSTEM, cms.id, "演示 CMS 密钥", ["gate", "scan"])
        out.append(("cms", "apikey(gate,scan)", key))
    path = st.settings.data_dir / "demo-accounts.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        for u, r, pw in out:
            fh.write(f"{u}\t{r}\t{pw}\n")
    return out


class NoTracebackText(logging.Filter):
    """Server logs never carry exception messages (they can quote document text): a record with
    exc_info keeps the exception type and the frames' file:line only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            import traceback
            etype, exc, tb = record.exc_info
            frames = [f"{fs.filename.rsplit('/', 1)[-1]}:{fs.lineno}" for fs in traceback.extract_tb(tb)][-6:]
            record.msg = f"{record.getMessage()} [{etype.__name__} at {' < '.join(reversed(frames))}]"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def _exit_with_parent() -> None:
    """Test servers (tests/support/server.py) set BAOMI_EXIT_WITH_PARENT: if the test runner dies, the server
    and its process group go too instead of lingering as orphans."""
    want = os.environ.get("BAOMI_EXIT_WITH_PARENT", "")
    if not want.isdigit():
        return
    import signal
    import threading
    import time

    def watch():
        while True:
            if os.getppid() != int(want):
                os.killpg(os.getpgid(0), signal.SIGKILL)
            time.sleep(1.0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def cmd_serve(args) -> int:
    import uvicorn
    from .main import create_app
    _exit_with_parent()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for h in logging.getLogger().handlers:
        h.addFilter(NoTracebackText())
    settings = _settings(args)
    if args.http_workers is not None:
        settings.http_workers = args.http_workers
    if args.limit_concurrency is not None:
        settings.limit_concurrency = args.limit_concurrency
    multi = settings.processes > 1
    busy = _port_taken(settings.host, settings.port)
    if busy:            # say so before anything is created or printed (demo accounts, banner)
        print(f"无法启动：{settings.host}:{settings.port} 已被占用（{busy}）。请换一个端口："
              f"`make run PORT=8080`、`baomi serve --port 8080` 或设置 BAOMI_PORT=8080。\n"
              f"cannot start: {settings.host}:{settings.port} is in use; choose another port with --port or BAOMI_PORT.",
              file=sys.stderr)
        return 3
    from .state import ServiceState
    st = ServiceState.build(settings, load_scanner=not multi)
    s = st.settings
    demo = ensure_demo_accounts(st) if s.create_demo_accounts else None
    url = f"http://{s.host}:{s.port}"
    print(f"Baomi 保密审查服务 / service: {url}   API 文档 / docs: {url}/docs")
    print(f"数据目录 / data: {s.data_dir.resolve()}   数据库 / db: {'SQLite' if st.db.is_sqlite else 'PostgreSQL'}")
    if demo:
        print("首次启动，已创建演示账号（另存于数据目录 demo-accounts.txt，权限 0600）:")
        for u, r, pw in demo:
            print(f"  {u:<10} {r:<18} {pw}")
    elif (s.data_dir / "demo-accounts.txt").exists():
        print(f"演示账号 / demo accounts ({(s.data_dir / 'demo-accounts.txt').resolve()}):")
        for line in (s.data_dir / "demo-accounts.txt").read_text().splitlines():
            u, r, pw = line.split("\t")
            print(f"  {u:<10} {r:<18} {pw}")
    sys.stdout.flush()
    log_config = {"version": 1, "disable_existing_loggers": False,
                  "filters": {"notb": {"()": NoTracebackText}},
                  "handlers": {"default": {"class": "logging.StreamHandler", "filters": ["notb"],
                                           "stream": "ext://sys.stderr"}},
                  "loggers": {"uvicorn": {"handlers": ["default"], "level": "WARNING", "propagate": False},
                              "uvicorn.error": {"handlers": ["default"], "level": "WARNING", "propagate": False}}}
    if multi:
        from .listen import CENSUS_ENV, census_dir
        # each process builds its own state from the environment (migrations are already done)
        os.environ.update({"BAOMI_DATA_DIR": str(s.data_dir.resolve()), "BAOMI_DB_URL": s.db_url,
                           "BAOMI_WORKERS": str(s.workers), "BAOMI_CREATE_DEMO_ACCOUNTS": "false",
                           "BAOMI_HTTP_WORKERS": str(s.processes),
                           "BAOMI_HEADER_TIMEOUT_S": str(s.header_timeout_s),
                           CENSUS_ENV: census_dir(s.data_dir.resolve())})
        st.db.dispose()
        print(f"HTTP 进程 / processes: {s.processes}")
        sys.stdout.flush()
        from uvicorn.supervisors import Multiprocess
        config = uvicorn.Config("service.main:create_app", factory=True, workers=s.processes, host=s.host,
                                port=s.port, log_level="warning", access_log=False, log_config=log_config,
                                **{**_http_limits(s), "http": "service.httpproto:GuardedH11Protocol"})
        from .listen import per_process_listener
        hold, listener = per_process_listener(s.host, s.port)
        try:
            Multiprocess(config, sockets=[listener]).run()     # type: ignore[list-item]
        finally:
            hold.close()
        return 0
    app = create_app(state=st)
    uvicorn.run(app, host=s.host, port=s.port, log_level="warning", access_log=False, log_config=log_config,
                **_http_limits(s))
    return 0


def _port_taken(host: str, port: int) -> str:
    """"" when (host, port) can be bound now, else the reason (a quick probe; uvicorn binds later)."""
    import errno
    import socket
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return f"地址无效：{exc.strerror or exc}"
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            return "端口已被其他程序使用" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
    return ""


def _http_limits(s) -> dict:
    """Slow and idle clients (service.httpproto): header deadline, keep-alive, concurrency."""
    from .httpproto import protocol
    return {"http": protocol(s.header_timeout_s), "timeout_keep_alive": s.keepalive_s,
            "limit_concurrency": s.limit_per_process}     # the whole service's limit, shared out


def cmd_worker(args) -> int:
    import signal
    import threading
    from .jobs import start_workers, startup_sweep, stop_workers
    if args.purge_once:
        return cmd_purge(args)
    logging.basicConfig(level=logging.INFO)
    st = _state(args, load_scanner=True)
    startup_sweep(st)
    start_workers(st, st.settings.workers)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    stop_workers(st)
    return 0


def cmd_audit(args) -> int:
    from . import audit
    from .jobs import write_checkpoint
    st = _state(args)
    if args.action == "checkpoint":
        cp = write_checkpoint(st)
        print(json.dumps(cp, sort_keys=True))
        if not args.json:
            print(f"已写入 {st.settings.checkpoint_path}；请将上一行另行保存（保密办留存），校验时用 "
                  f"`baomi audit verify --checkpoint 文件` / checkpoint appended; keep the line above elsewhere",
                  file=sys.stderr)
        return 0
    cps = audit.read_checkpoints(st.settings.checkpoint_path)
    for f in args.checkpoint or ():
        cps += audit.read_checkpoints(Path(f))
    with st.db.read() as s:
        res = audit.verify(s, cps)
    if args.json:
        print(json.dumps(res.to_dict(), ensure_ascii=False))
    elif res.ok:
        print(f"审计链完整：{res.count} 条记录 / audit chain intact: {res.count} entries")
    else:
        print(f"审计链被破坏：第 {res.broken_at} 条（{res.reason}）/ audit chain broken at {res.broken_at}: {res.reason}")
    return 0 if res.ok else 1


def cmd_user(args) -> int:
    from . import audit
    from .models import User
    from .security import hash_password
    st = _state(args)
    if args.action == "list":
        with st.db.read() as s:
            for u in s.execute(select(User).order_by(User.id)).scalars():
                print(f"{u.id}\t{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}")
        return 0
    if args.action == "unlock":
        from .accounts import name_mac
        from .models import LoginThrottle
        with st.db.write() as s:
            u = s.execute(select(User).where(User.username == args.username)).scalar_one_or_none()
            if u is None:
                print("用户不存在 / no such user", file=sys.stderr)
                return 1
            row = s.get(LoginThrottle, "u:" + name_mac(st, u.username)[:40])
            if row is not None:
                s.delete(row)
            audit.append(s, audit.SYSTEM, "user.unlocked", "user", str(u.id), after={"via": "cli"})
        print(f"已解除登录锁定 / unlocked: {args.username}")
        return 0
    from .security import end_sessions, password_problem
    pw = args.password or secrets.token_urlsafe(12)
    why = password_problem(pw, args.username or "", args.display_name or "")
    if why:
        print(f"密码不符合要求 / weak password: {why}", file=sys.stderr)
        return 1
    with st.db.write() as s:
        u = s.execute(select(User).where(User.username == args.username)).scalar_one_or_none()
        if args.action == "add":
            if u is not None:
                print("用户已存在 / user exists", file=sys.stderr)
                return 1
            u = User(username=args.username, display_name=args.display_name or args.username,
                     role=args.role, password_hash=hash_password(pw))
            s.add(u)
            s.flush()
            audit.append(s, audit.SYSTEM, "user.created", "user", str(u.id), after={"username": u.username, "role": u.role})
        else:
            if u is None:
                print("用户不存在 / no such user", file=sys.stderr)
                return 1
            u.password_hash = hash_password(pw)
            ended = end_sessions(s, u.id)          # a new password ends every session of the user
            audit.append(s, audit.SYSTEM, "user.updated", "user", str(u.id),
                         after={"password_reset": True, "sessions_ended": ended})
    print(f"{args.username}\t{pw}")
    return 0


def cmd_apikey(args) -> int:
    import time
    from . import audit
    from .models import ApiKey, User
    from .accounts import make_key
    st = _state(args)
    with st.db.write() as s:
        if args.action == "create":
            u = s.execute(select(User).where(User.username == args.username)).scalar_one_or_none()
            if u is None:
                print("用户不存在 / no such user", file=sys.stderr)
                return 1
            k, full = make_key(s, audit.SYSTEM, u.id, args.name, args.scopes.split(","))
            print(full)
        elif args.action == "list":
            for k in s.execute(select(ApiKey).order_by(ApiKey.id)).scalars():
                print(f"{k.id}\tbm_{k.prefix}_…\t{k.scopes}\t{'revoked' if k.revoked_at else 'active'}")
        else:
            k = s.get(ApiKey, args.key_id)
            if k is None:
                return 1
            k.revoked_at = time.time()
            audit.append(s, audit.SYSTEM, "apikey.revoked", "api_key", str(k.id))
    if args.action == "revoke":         # committed: the running servers' cached checks of it are stale
        from .security import auth_epoch_bump
        auth_epoch_bump(st.settings.data_dir)
    return 0


def cmd_purge(args) -> int:
    from .jobs import purge_expired
    print(json.dumps(purge_expired(_state(args))))
    return 0


def add_commands(sub) -> None:
    """Add the service's subcommands to the `baomi` parser's subparsers (entry point)."""
    def common(sp):
        sp.add_argument("--data-dir", type=Path, default=None, help="数据目录（默认 ./var 或 BAOMI_DATA_DIR）")
        sp.add_argument("--db-url", default=None, help="数据库 URL（默认数据目录中的 SQLite；或 postgresql://…）")
        return sp

    sp = common(sub.add_parser("serve", help="启动服务 / start the service"))
    sp.add_argument("--host", default=None)
    sp.add_argument("--port", type=int, default=None)
    sp.add_argument("--workers", type=int, default=None, help="任务工作线程数 / job workers")
    sp.add_argument("--http-workers", type=int, default=None, help="HTTP 进程数（默认每核一个）/ server processes (default: one per core)")
    sp.add_argument("--limit-concurrency", type=int, default=None,
                    help="整个服务同时处理的连接与请求上限（默认 200，各 HTTP 进程均分，BAOMI_LIMIT_CONCURRENCY）"
                         "/ connections and tasks at once, whole service (shared out over the processes)")
    sp.set_defaults(func=cmd_serve)
    sp = common(sub.add_parser("worker", help="独立的任务进程 / standalone job worker"))
    sp.add_argument("--workers", type=int, default=None)
    sp.add_argument("--purge-once", action="store_true",
                    help="按保留期清除草稿后退出 / run the retention purge once and exit")
    sp.set_defaults(func=cmd_worker)
    sp = common(sub.add_parser("audit", help="审计 / audit"))
    sp.add_argument("action", choices=["verify", "checkpoint"],
                    help="verify: 校验审计链与检查点 / check the chain and checkpoints; "
                         "checkpoint: 签名记录当前链头 / sign and append the head")
    sp.add_argument("--checkpoint", action="append", metavar="FILE",
                    help="另存的检查点文件（可多次）/ checkpoints kept elsewhere (repeatable)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_audit)
    sp = common(sub.add_parser("user", help="用户 / users"))
    sp.add_argument("action", choices=["add", "passwd", "list", "unlock"],
                    help="add 新建 / passwd 重设密码（结束其全部会话）/ list 列出 / unlock 解除登录锁定")
    sp.add_argument("username", nargs="?")
    sp.add_argument("--role", choices=["author", "reviewer", "approver", "admin", "inspector"], default="author")
    sp.add_argument("--display-name", default="")
    sp.add_argument("--password", default=None, help="不填则随机生成并打印 / random if omitted")
    sp.set_defaults(func=cmd_user)
    sp = common(sub.add_parser("apikey", help="API 密钥 / API keys"))
    sp.add_argument("action", choices=["create", "list", "revoke"])
    sp.add_argument("username", nargs="?")
    sp.add_argument("--key-id", type=int)
    sp.add_argument("--name", default="")
    sp.add_argument("--scopes", default="gate,scan")
    sp.set_defaults(func=cmd_apikey)
    sp = common(sub.add_parser("purge", help="按保留期清除草稿 / retention purge"))
    sp.set_defaults(func=cmd_purge)


def main(argv: list[str]) -> int:
    """The service's commands alone (`python -m service.cli ...`); `baomi` has them too."""
    p = argparse.ArgumentParser(prog="baomi", description="Baomi 保密审查服务")
    add_commands(p.add_subparsers(dest="cmd", required=True))
    args = p.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
