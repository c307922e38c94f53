"""The process-wide service state built once in the lifespan: settings, database, cipher, blob
store, scanner, metrics, job workers."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from .crypto import Cipher, load_key
from .db import Database
from .metrics import Metrics
from .settings import Settings
from .storage import BlobStore

log = logging.getLogger("baomi.service")


@dataclass
class ServiceState:
    settings: Settings
    db: Database
    cipher: Cipher
    blobs: BlobStore
    metrics: Metrics = field(default_factory=Metrics)
    scanner: object | None = None
    isolated: bool = False
    wake: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    workers: list = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, load_scanner: bool = True) -> "ServiceState":
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = load_key(settings.encryption_key, settings.encryption_key_file, settings.data_dir)
        cipher = Cipher(key)
        db = Database(settings.resolved_db_url)
        db.migrate()
        st = cls(settings=settings, db=db, cipher=cipher, blobs=BlobStore(settings.data_dir, cipher))
        st.isolated = settings.use_isolated()
        if load_scanner:
            from scanner import get_scanner
            st.scanner = get_scanner(light=settings.light_scanner)
        return st

    def get_gate_scanner(self):
        """The scanner the CMS gate uses (same rules and policy, cheaper name tagging)."""
        from scanner import get_scanner
        if self.settings.light_scanner:
            return self.get_scanner()
        return get_scanner(light=False, names_scope=self.settings.gate_names_scope)

    def get_scanner(self):
        if self.scanner is None:
            from scanner import get_scanner
            self.scanner = get_scanner(light=self.settings.light_scanner)
        return self.scanner
