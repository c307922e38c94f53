"""The workflow's permissions table and state machine on their own (no HTTP), the route
dependencies derived from it, and the isolation setting."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from scanner.config import Isolation
from scanner.extract.sandbox import needs_isolation
from service import workflow
from service.main import create_app
from service.models import Submission
from service.principal import Principal
from service.security import ROLE_SCOPES
from service.settings import Settings

# routes anyone may call, or any authenticated principal about itself (method, path)
PUBLIC = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/auth/me"),
          ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/docs"), ("GET", "/api-docs.js"),
          ("GET", "/openapi.json"), ("HEAD", "/openapi.json")}


def who(uid: int, role: str, scopes=None) -> Principal:
    return Principal(uid, f"u{uid}", f"u{uid}", role, "session", set(ROLE_SCOPES[role] if scopes is None else scopes))


def sub(status: str, owner: int = 1, reviewer: int | None = None) -> Submission:
    return Submission(id="s", owner_id=owner, status=status, current_version=1, reviewer_id=reviewer)


def _routes(routes):
    for r in routes:      # FastAPI keeps included routers as wrappers around the original router
        yield from _routes(r.original_router.routes) if hasattr(r, "original_router") else (r,)


def test_every_route_requires_an_action_of_the_table_or_is_a_page_or_public(tmp_path):
    """Each route of the app (the API, the pages, the ops routes): an API route has exactly one
    Requires(action) of the permissions table (so its role and scope are checked before the
    handler runs, for sessions and API keys alike); a page route is a PageRoute (session cookie
    only: an API key is refused whatever its scopes); anything else is listed in PUBLIC."""
    from starlette.routing import Mount
    from service.web.common import PageRoute
    app = create_app(Settings(data_dir=tmp_path))
    seen, pages, public = set(), 0, set()
    for route in _routes(app.routes):
        if isinstance(route, Mount):
            assert route.path == "/static", route.path        # the page assets
            continue
        path = route.path
        methods = set(getattr(route, "methods", None) or {"GET"})
        if {(m, path) for m in methods} <= PUBLIC:
            public |= {(m, path) for m in methods}
            continue
        if isinstance(route, PageRoute):
            assert not path.startswith("/api/"), path
            pages += 1
            continue
        actions = [getattr(d.dependency, "action", None) for d in route.dependencies]
        actions = [a for a in actions if a]
        assert len(actions) == 1, f"{sorted(methods)} {path} has no Requires(...) dependency"
        assert actions[0] in workflow.PERMISSIONS
        seen.add(actions[0])
    assert {"scan", "gate", "submit", "review", "approval", "publish", "admin", "submission.view",
            "submission.list", "report.view", "job.view", "allowlist.view"} <= seen
    assert pages >= 20 and public == PUBLIC


def test_transitions_name_known_states_and_actions():
    for t in workflow.TRANSITIONS:
        assert t.action in workflow.PERMISSIONS
        assert set(t.sources) <= set(workflow.STATES) and (t.to is None or t.to in workflow.STATES)
        assert t.level is None or t.level in workflow.LEVEL_ZH
    assert set(workflow.STATUS_ZH) == set(workflow.STATES) == set(workflow.OPEN) | set(workflow.FINAL)
    assert workflow.decisions("review") == ("approve", "request_changes", "reject", "escalate")
    with pytest.raises(ValueError):
        workflow.transition("review", "publish")


def test_who_may_do_what():
    alice, bob, rita, apollo, root = who(1, "author"), who(2, "author"), who(3, "reviewer"), who(4, "approver"), who(5, "admin")
    review = sub("pending_review")
    assert workflow.can(rita, "review", review) and workflow.can(root, "verdict", review)
    # the approver signs off; the 保密审查 (verdicts, review decision) is not hers
    assert workflow.denial(apollo, "verdict", review).code == "role_forbidden"
    assert workflow.denial(apollo, "review", review).code == "role_forbidden"
    # nobody reviews or signs what they submitted, whatever their role
    assert workflow.denial(root, "review", sub("pending_review", owner=5)).code == "separation_of_duties"
    assert workflow.denial(root, "approval", sub("pending_approval", owner=5, reviewer=3)).code == "separation_of_duties"
    assert not workflow.can(alice, "review", review) and not workflow.can(rita, "approval", sub("pending_approval"))
    assert workflow.denial(bob, "withdraw", review).code == "not_owner"           # not his, and he is no staff
    assert workflow.can(alice, "withdraw", review) and workflow.can(root, "withdraw", review)
    assert workflow.allowed(alice, review) == {"resubmit", "withdraw"}
    assert workflow.allowed(alice, sub("approved")) == {"withdraw", "publish"}
    # separation of duties: the reviewer of a submission does not also sign it off
    signed = sub("pending_approval", reviewer=4)
    assert workflow.denial(apollo, "approval", signed).code == "separation_of_duties"
    assert workflow.can(root, "approval", signed)
    # states: a published submission takes no further step
    assert workflow.allowed(root, sub("published")) == set()
    assert workflow.denial(rita, "review", sub("approved")).status == 409
    # scopes: an owner's gate key can neither publish nor withdraw
    key = who(1, "author", scopes={"gate", "scan"})
    assert workflow.denial(key, "publish", sub("approved")).code == "scope_forbidden"
    assert workflow.denial(key, "withdraw", review).code == "scope_forbidden"


@pytest.mark.parametrize("value, mode", [("always", Isolation.ALWAYS), ("true", Isolation.ALWAYS), ("1", Isolation.ALWAYS),
                                         ("auto", Isolation.AUTO), ("off", Isolation.OFF), ("false", Isolation.OFF),
                                         ("never", Isolation.OFF)])
def test_isolation_setting_means_what_it_says(value, mode, tmp_path):
    s = Settings(data_dir=tmp_path, isolated=value)
    assert s.isolated is mode
    docx_head = b"PK\x03\x04" + b"\0" * 26 + b"[Content_Types].xml"
    assert needs_isolation(b"plain text draft", s.isolated) is (mode is Isolation.ALWAYS)
    assert needs_isolation(docx_head, s.isolated) is (mode is not Isolation.OFF)


def test_isolation_setting_rejects_a_typo(tmp_path):
    with pytest.raises(ValidationError, match="isolat"):
        Settings(data_dir=tmp_path, isolated="sometimes")
