"""One configuration object for a scan: `ScanConfig`, built once (from BAOMI_* environment variables
and/or keyword arguments) by whoever starts the work (CLI, batch, service) and passed down.
Nothing in the scanner reads os.environ at import time or behind the caller's back.

    cfg = ScanConfig.from_env()                      # environment (BAOMI_LIGHT, BAOMI_NAMES_SCOPE, ...)
    cfg = ScanConfig.from_env(light=True)            # environment, keyword arguments win
    cfg = ScanConfig(light=True)                     # keyword arguments and defaults only

Environment variables (all optional):
    BAOMI_LEXICON_DIR        rules, terms, markings, policy (default: the shipped lexicons/)
    BAOMI_LIGHT              1: rules and lexicons only, no models
    BAOMI_NAMES_SCOPE        all | cue | off          (the name tagger's reach, see MODEL_CARD_names.md)
    BAOMI_NAMES_REPORT       relevant | all           (names only where they matter, or a full inventory)
    BAOMI_ISOLATION          off | auto | always      (parse files in a sandboxed child process)
    BAOMI_REGEX_TIMEOUT_S    time limit of one rule's regex on one segment
    BAOMI_FINGERPRINT_KEY_FILE  the install secret keying the findings' fingerprints
    BAOMI_EXTRACT_MEM_MB, BAOMI_EXTRACT_CPU_S, BAOMI_EXTRACT_WALL_S, BAOMI_EXTRACT_NETNS (auto | off)
                             the sandbox of a child / batch worker (`SandboxLimits`)
    BAOMI_OCR                1 (default) / 0: read images and scanned pages (always off in light mode,
                             where image-only content goes to review with extract.ocr_unavailable)
    BAOMI_OCR_THREADS        onnxruntime threads of the OCR engine (default 1)
    BAOMI_OCR_REC            float (default) / int8: the OCR recogniser; int8 costs ~0.65x the CPU and reads
                             less (README "OCR"); carried to the extraction child by OcrOptions.rec
    BAOMI_OCR_BUDGET_S       OCR seconds per document, in CPU time per OCR thread (default 300; pages beyond: review)
"""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError, from_validation


def default_lexicon_dir() -> Path:
    """The shipped lexicons/ (beside the package in a checkout, or inside it when installed)."""
    here = Path(__file__).resolve().parent
    for cand in (here.parent / "lexicons", here / "lexicons"):
        if (cand / "policy.toml").exists():
            return cand
    raise ConfigError("lexicons/ directory not found", file="lexicons/policy.toml")


_TRUE = ("1", "true", "yes", "on", "always")
_FALSE = ("0", "false", "no", "off", "never", "")


class Isolation(str, enum.Enum):
    """Where files are parsed. off: in process; auto: every parsed format in a sandboxed child
    (plain text, which needs no parser, in process); always: every file in a child."""
    OFF = "off"
    AUTO = "auto"
    ALWAYS = "always"

    @classmethod
    def parse(cls, value: Isolation | bool | str | None) -> Isolation:
        """Every spelling in use: the CLI's auto/always/never, the service's true/false/1/0/on/off
        (where the service once read "always" as off: here "always" is always), and booleans."""
        if isinstance(value, cls):
            return value
        if value is None:
            return cls.AUTO
        if isinstance(value, bool):
            return cls.ALWAYS if value else cls.OFF
        v = str(value).strip().lower()
        if v == "auto":
            return cls.AUTO
        if v in _TRUE:
            return cls.ALWAYS
        if v in _FALSE:
            return cls.OFF
        raise ConfigError(f"isolation must be off, auto or always, not {value!r}", field="isolation")


class NamesScope(str, enum.Enum):
    """Reach of the personal-name tagger: all text, only where personal data is cued, or off."""
    ALL = "all"
    CUE = "cue"
    OFF = "off"


class SandboxLimits(BaseModel):
    """Limits of a sandboxed extraction child or batch worker: an address-space cap (MB above what
    the process holds when the cap is set), a CPU-time budget per file, a wall-clock watchdog, and
    network isolation (`unshare -rn` where the machine allows it; "off" never)."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    mem_mb: int = Field(1536, gt=0)
    cpu_s: int = Field(60, gt=0)
    wall_s: float = Field(90.0, gt=0)
    netns: str = Field("auto", pattern="^(auto|off)$")


class _SandboxEnv(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAOMI_EXTRACT_", extra="ignore")
    mem_mb: int = 1536
    cpu_s: int = 60
    wall_s: float = 90.0
    netns: str = "auto"


# The OCR recogniser (scanner.extract.ocr.rec_model_path): the wheel's float PP-OCRv4 model, or the
# int8 derivation of it in models/ (training/ocr_quant.py; cheaper, reads less: opt-in)
OCR_REC_CHOICES = ("float", "int8")


class ScanConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    lexicon_dir: Path | None = None
    light: bool = False
    names_scope: NamesScope = NamesScope.ALL
    names_report: str = Field("relevant", pattern="^(relevant|all)$")
    isolation: Isolation = Isolation.AUTO
    regex_timeout_s: float = Field(1.0, gt=0)
    # the install secret that keys the findings' HMAC fingerprints (None: BAOMI_DATA_DIR/fingerprint.key
    # or ~/.config/baomi/fingerprint.key, scanner.fingerprint.default_key_path)
    fingerprint_key_file: Path | None = None
    sandbox: SandboxLimits = Field(default_factory=SandboxLimits)
    ocr: bool = True
    ocr_threads: int = Field(1, ge=1, le=16)
    ocr_budget_s: float = Field(300.0, gt=0)
    ocr_rec: str = "float"

    @field_validator("ocr_rec", mode="before")
    @classmethod
    def _ocr_rec(cls, v: Any) -> str:
        choice = "float" if v is None else str(v).strip().lower() or "float"
        if choice not in OCR_REC_CHOICES:
            raise ValueError(f"OCR 识别模型只能是 float（默认，随识别引擎发布的模型）或 int8（量化模型），"
                             f"不能是 {str(v)[:40]!r}")
        return choice

    @field_validator("isolation", mode="before")
    @classmethod
    def _isolation(cls, v: Any) -> Isolation:
        return Isolation.parse(v)

    @field_validator("names_scope", mode="before")
    @classmethod
    def _scope(cls, v: Any) -> Any:
        return NamesScope.ALL if v is None or v == "" else v

    @classmethod
    def build(cls, **values: Any) -> ScanConfig:
        """ScanConfig(**values), with pydantic's errors turned into a ConfigError naming the field."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise from_validation(exc, known_keys=cls.model_fields) from None

    @classmethod
    def from_env(cls, **overrides: Any) -> ScanConfig:
        """Built from BAOMI_* environment variables; keyword arguments (not None) win."""
        try:
            env = _Env()
            sandbox = SandboxLimits(**_SandboxEnv().model_dump())
        except ValidationError as exc:
            raise from_validation(exc, file="environment (BAOMI_*)") from None
        values: dict[str, Any] = {k: v for k, v in env.model_dump().items() if v is not None}
        values["sandbox"] = sandbox
        given = {k: v for k, v in overrides.items() if v is not None}
        values.update(given)
        try:
            return cls.build(**values)
        except ConfigError as exc:
            top = exc.field.split(".")[0]
            if top in given or not top:
                raise
            raise ConfigError(exc.problem, file="environment", field=f"BAOMI_{top.upper()}") from None

    def replace(self, **changes: Any) -> ScanConfig:
        return self.build(**{**self.model_dump(), **changes})

    @property
    def lexicons(self) -> Path:
        """The lexicon directory in use (the shipped one unless set)."""
        return Path(self.lexicon_dir) if self.lexicon_dir else default_lexicon_dir()


class _Env(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAOMI_", extra="ignore")
    lexicon_dir: Path | None = None
    light: bool | None = None
    names_scope: str | None = None
    names_report: str | None = None
    isolation: str | None = None
    regex_timeout_s: float | None = None
    fingerprint_key_file: Path | None = None
    ocr: bool | None = None
    ocr_threads: int | None = None
    ocr_budget_s: float | None = None
    ocr_rec: str | None = None
