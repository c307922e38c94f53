"""Who is asking: the principal of one request (a logged-in user or an API key), as the
permission checks in service.workflow and the audit log see it."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import audit
from .security import STAFF


@dataclass
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    via: str                       # "session" | "apikey"
    scopes: set[str] = field(default_factory=set)
    key_id: int | None = None
    csrf_token: str | None = None
    ip: str = ""

    @property
    def tag(self) -> str:
        """The queue's per-principal key: one API key, or one user's sessions."""
        return f"k:{self.key_id}" if self.key_id is not None else f"u:{self.user_id}"

    @property
    def actor(self) -> audit.Actor:
        name = self.username + (f" (key {self.key_id})" if self.key_id is not None else "")
        return audit.Actor(self.user_id, name, self.role, self.ip)

    @property
    def is_staff(self) -> bool:
        """Sees every submission, report and job (not only its own): a staff role, on a credential
        that carries the `review` scope (a reviewer's `scan` key sees only what it created)."""
        return self.role in STAFF and "review" in self.scopes
