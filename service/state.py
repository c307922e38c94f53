"""The process-wide service state built once in the lifespan: settings, database, cipher, blob
store, the scanners, metrics, job workers.

The service holds two scanner handles over the same rules: `scanner` (scans, submissions, the
pages) and `gate_scanner` (the CMS gate: the same rules and policy, the name tagger only where
personal data is cued). `reload_rules()` builds both from a lexicon directory and swaps them
together, so an edit saved by an admin reaches the scan and the gate at once."""
from __future__ import annotations

import copy
import gc
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from scanner import get_scanner
from scanner.config import Isolation
from scanner.engine import Scanner
from scanner.fingerprint import key_id, load_or_create_key
from scanner.rules import default_lexicon_dir
from scanner.taxonomy import Taxonomy

from . import overrides
from .crypto import Cipher, load_audit_key, load_key
from .db import Database
from .metrics import Metrics
from .settings import Settings
from .storage import BlobStore

log = logging.getLogger("baomi.service")


def _next_seq(db: Database) -> int:
    from sqlalchemy import select
    from .models import AuditHead
    with db.read() as s:
        return s.execute(select(AuditHead.seq).where(AuditHead.id == 1)).scalar_one() + 1


@dataclass
class ServiceState:
    settings: Settings
    db: Database
    cipher: Cipher
    blobs: BlobStore
    metrics: Metrics = field(default_factory=Metrics)
    scanner: Scanner | None = None
    gate_scanner: Scanner | None = None
    wake: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    workers: list = field(default_factory=list)
    last_checkpoint: float = 0.0
    fingerprint_key: bytes | None = None      # the install's fingerprint secret (settings.fingerprint_key_path)
    _rules_base: Path | None = None
    _rules_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _taxonomy: tuple = field(default=(None, None), repr=False)       # (scanner, its taxonomy)
    _scan_slots: threading.BoundedSemaphore | None = field(default=None, repr=False)
    # API keys that passed: SHA-256 of the key -> (credential epoch, principal) (service.deps)
    key_cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, settings: Settings, load_scanner: bool = True) -> ServiceState:
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = load_key(settings.encryption_key, settings.encryption_key_file, settings.data_dir)
        cipher = Cipher(key)
        db = Database(settings.resolved_db_url)
        db.migrate()
        db.audit_key = load_audit_key(settings.audit_key_path, lambda: _next_seq(db))
        db.cipher = cipher
        settings.fingerprint_key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = cls(settings=settings, db=db, cipher=cipher, blobs=BlobStore(settings.data_dir, cipher),
                 fingerprint_key=load_or_create_key(settings.fingerprint_key_path))
        if load_scanner:
            st.get_scanner()
        return st

    @property
    def scan_slots(self) -> threading.BoundedSemaphore:
        """At most settings.scan_concurrency scans at once in this process (0: the cores left to
        each server process, at least one)."""
        if self._scan_slots is None:
            with self._rules_lock:
                if self._scan_slots is None:
                    n = self.settings.scan_concurrency or (os.cpu_count() or 1) // self.settings.processes
                    self._scan_slots = threading.BoundedSemaphore(max(1, n))
        return self._scan_slots

    @property
    def isolation(self) -> Isolation:
        """Where uploaded files are parsed (settings.isolated)."""
        return self.settings.isolated

    def get_scanner(self) -> Scanner:
        """The scanner of scans, submissions and pages: the shipped rules with the admins' edits
        from the data directory laid over them (service.overrides)."""
        if self.scanner is None:
            eff = overrides.effective_dir(self.settings.data_dir, self.rules_base())
            self.scanner = (self._keyed(get_scanner(light=self.settings.light_scanner))
                            if self.settings.ocr is None and eff == default_lexicon_dir() else self._build(eff))
        return self.scanner

    def warm_scanner(self) -> threading.Thread | None:
        """Load what the built scanner's detectors load on first use (Scanner.warm: the names
        tagger's dense tables ~0.3 s, the explanations' segmenter ~1 s on the first flagged
        passage) in a background thread, so the first requests after a start do not pay it and
        the start itself is not delayed. Requests meanwhile are served; one that needs a table
        first builds it itself (the builds are safe side by side). None when no scanner is built."""
        sc = self.scanner
        if sc is None:
            return None

        def run() -> None:
            try:
                sc.warm()
            except Exception as exc:        # the scans load it themselves, and fail closed
                log.warning("scanner warm-up failed: %s", type(exc).__name__)
            # the app, the scanner and its tables (~170,000 tracked objects, built once) move to the
            # permanent generation: a full collection no longer walks them (~0.1 s each time, a
            # pause of every request in this process, i.e. the latency's tail)
            gc.freeze()
        t = threading.Thread(target=run, name="scanner-warm", daemon=True)
        t.start()
        return t

    def _keyed(self, sc: Scanner) -> Scanner:
        """The process-wide scanner `sc` with this install's fingerprint key: a shallow copy (the
        rules, automata and models are shared; only the key differs)."""
        if self.fingerprint_key is None or sc.fingerprint_key == self.fingerprint_key:
            return sc
        out = copy.copy(sc)
        out.fingerprint_key, out.fingerprint_key_id = self.fingerprint_key, key_id(self.fingerprint_key)
        return out

    def rules_base(self) -> Path:
        """The directory the edits overlay: the shipped lexicons, or one given to reload_rules."""
        return self._rules_base or default_lexicon_dir()

    @property
    def taxonomy(self) -> Taxonomy:
        """The vocabulary of the running rules: the scanner's, extended by its lexicon
        directory's taxonomy.toml when there is one (what the pages label and colour with)."""
        sc = self.get_scanner()
        if self._taxonomy[0] is not sc:
            self._taxonomy = (sc, Taxonomy.load(sc.lexicon_dir))
        return self._taxonomy[1]

    def get_gate_scanner(self) -> Scanner:
        """The scanner the CMS gate uses: the same rules and policy as `get_scanner()`, cheaper
        name tagging (settings.gate_names_scope). In light mode there are no models: the same one."""
        sc = self.get_scanner()
        if self.settings.light_scanner:
            return sc
        gate = self.gate_scanner
        if gate is None or gate.lexicon_dir != sc.lexicon_dir or gate.ruleset_hash != sc.ruleset_hash:
            with self._rules_lock:
                gate = self.gate_scanner = self._build(sc.lexicon_dir, gate=True)
        return gate

    def _ocr(self):
        """OCR options of the service's scanners: on (settings.ocr; unset = on unless light_scanner,
        true = on even then), with the engine's threads, budget and recogniser of the scan
        configuration (BAOMI_OCR_THREADS, BAOMI_OCR_BUDGET_S, BAOMI_OCR_REC: ScanConfig.from_env,
        their one home)."""
        from scanner.config import ScanConfig
        from scanner.extract.ocr import from_config
        on = self.settings.ocr if self.settings.ocr is not None else not self.settings.light_scanner
        opts = from_config(ScanConfig.from_env(light=False, ocr=on))
        if not on and self.settings.ocr is None:
            opts.reason = "light"          # light_scanner without OCR: the message says 轻量模式
        return opts

    def _build(self, lexicon_dir: Path, gate: bool = False) -> Scanner:
        if gate:
            return Scanner(lexicon_dir=lexicon_dir, light=False, names_scope=self.settings.gate_names_scope,
                           ocr=self._ocr(), fingerprint_key=self.fingerprint_key)
        return Scanner(lexicon_dir=lexicon_dir, light=self.settings.light_scanner, ocr=self._ocr(),
                       fingerprint_key=self.fingerprint_key)

    def reload_rules(self, lexicon_dir: str | Path | None = None) -> Scanner:
        """Build the scan and gate scanners from `lexicon_dir` (default: the current base) with the
        data directory's edits laid over it, and swap both in. A directory that does not load
        raises here and leaves the old scanners running."""
        base_dir = Path(lexicon_dir) if lexicon_dir is not None else self.rules_base()
        base = overrides.effective_dir(self.settings.data_dir, base_dir)
        sc = self._build(base)
        gate = None if self.settings.light_scanner else self._build(base, gate=True)
        with self._rules_lock:
            self.scanner, self.gate_scanner, self._rules_base = sc, gate, base_dir
        log.info("rules reloaded ruleset=%s", sc.ruleset_hash)
        return sc
