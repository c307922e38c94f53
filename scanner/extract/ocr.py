"""OCR: text read from images and scanned pages (PP-OCRv4 through rapidocr-onnxruntime, offline).

The engine is a lazy singleton per process, built on first use: its detector and angle classifier
ship in the pinned rapidocr-onnxruntime wheel and are checked against models/manifest.json
("external"), and so does its recogniser (or, with OcrOptions.rec "int8" — ScanConfig.ocr_rec,
BAOMI_OCR_REC=int8 — models/ch_PP-OCRv4_rec_int8.onnx, derived from the wheel's by
training/ocr_quant.py, checked against "files"), all before they are loaded; onnxruntime runs with `threads`
intra-op threads (1 by default: the machine is shared) and no inter-op pool. It is used from the
extraction code only, which for untrusted input runs in the sandboxed child (no network, memory
and CPU limits; scanner.extract.isolated), never in the service process itself.

What is read and what is not is recorded per document and turned into report errors by `finish`
(called at the end of `extract_bytes`), one per kind, naming the pages or images:

| situation                                                        | error code                    | message (errors.py)     |
|------------------------------------------------------------------|-------------------------------|-------------------------|
| OCR off (light mode), engine missing or its models fail the hash  | extract.ocr_unavailable       | E.ocr_unavailable       |
| OCR raised on a page/image                                        | extract.ocr_unavailable       | E.ocr_unavailable       |
| low confidence on text-like regions (rule below)                  | extract.ocr_low_confidence    | E.ocr_low_confidence    |
| the OCR budget of the document (CPU seconds per thread) ran out   | extract.timeout               | E.ocr_timeout           |
| an EMF/WMF picture that could not be converted to a bitmap        | extract.ocr_unsupported_image | E.ocr_unsupported_image |
| a picture or page that could not be decoded or rendered           | extract.image_unreadable      | E.image_unreadable      |

The Chinese message of each (what people read; it names the pages or pictures) is made by the
function of scanner/extract/errors.py in the last column; tests/scanner/extract/test_ocr_codes.py
checks that every code the extractors record is in this table and that `finish` gives exactly it.

Confidence rule (documented contract): a recognised line with confidence < KEEP_CONFIDENCE (0.5)
is not used as text. A detected region is *text-like* when the recogniser saw at least two
letters, digits or ideographs in it that are not one character repeated (a region read as nothing
is texture: wood grain, a keyboard; one read as III, 1111 or QQQ is a pattern of shapes: stacked
boxes, a dashed line, rings; symbols alone are what shapes are read as: a toolbar icon's bar and
arrow read as 二←, a badge's star as ★日; a text-like line's punctuation is weighed with it). What is weighed is characters, not area (a stack of boxes read as three giant
letters used to outweigh a page of print): a page/image is *low confidence* when the
character-weighted mean confidence of its text-like lines is below LOW_CONFIDENCE (0.75), or when
the characters of its text-like lines that were not used (below KEEP_CONFIDENCE) are at least
DROPPED_SHARE (15 %) of them. A picture in which no text-like line was read usable and whose
text-like lines hold fewer than NOISE_CHARS (4) characters in all, or that has a single such line
covering under STRAY_REGION (2 %) of the picture (AAMARA read at 0.38 in a photograph), shows no text (a photograph's
spurious region, two letters read in leaves at confidence 0.2; a round seal beside its own
picture's well-read characters): nothing to read, not something unread. A small unsure region
(a seal, a signature, a toolbar icon read as letters) beside well-read text does not trip it; a
page most of whose text could not be read does, and so does a page whose only line was read unsure.

Set aside (not weighed; counted in the document's meta as ocr_set_aside): when a picture's main
print was read (at least
READ_CHARS characters of text-like lines at LOW_CONFIDENCE or better, in lines at least
SMALL_PRINT_PX thick), its unsure (below LOW_CONFIDENCE) text-like regions that are
- marks: at most MARK_WORDS letters, digits or ideographs (a screenshot's icons read as Qa← or 中品,
  a glyph of a script the recogniser has not learnt read as N n, a seal beside its picture's print),
  at most MARK_LINES of them (more is text broken into pieces), or
- small print: a line under SMALL_PRINT_PX thick (the short side of its box, in the picture's own
  pixels: what is published is those pixels, and a reader who zooms in sees no more), when the
  picture's minor print (its text-like lines of more than MARK_WORDS letters, digits or ideographs
  thinner than SMALL_PRINT_RATIO of the main print's thickness, the character-weighted median; read
  well or not) is at most SMALL_PRINT_LINES lines: a screenshot's title bar and menu, a diagram's
  tiny labels. More of it, or print not much thinner than the main print, is the page's own print
  (a notice in small print under a large title): weighed like any text.
A picture whose main print is not read (a blurred or low-resolution photo of a notice, a rotated or
noisy scan, a page half covered by a stamp) has nothing set aside: its unsure lines are weighed.
Setting aside only ever clears a picture (it is unsure when its text-like lines are, both with and
without those set aside), and an unsure picture's error names, in its detail, the boxes (pixels of
the picture, never text) of the weighed lines read below LOW_CONFIDENCE: where the reviewer looks.

Progress: extractors call `progress(done, total)` after each page/frame of a multi-page scan; the
options' on_progress receives it (in the sandboxed child: a `baomi-progress:done/total` line on
stderr, read by scanner.extract.isolated and handed to the caller's sink).

Segments go to layer `ocr`, one per line, with a locator of: page (PDF page or image frame, from
1), image (the member or image name, when the text is from an embedded picture), line (1-based
reading order on that page/image), box ([x0, y0, x1, y1] pixels of the OCR'd bitmap, y down),
size ([width, height] of that bitmap), confidence, and for PDF pages bbox (the box in PDF points,
y up, like the redaction boxes).
"""
from __future__ import annotations

import contextvars
import re
import time
from dataclasses import dataclass, field, replace
from collections.abc import Callable
from typing import Any

from ..config import OCR_REC_CHOICES
from ..model import Document
from . import errors as E

KEEP_CONFIDENCE = 0.5
LOW_CONFIDENCE = 0.75       # the character-weighted mean confidence a page/image's text must reach
DROPPED_SHARE = 0.15        # characters of text-like lines below KEEP_CONFIDENCE (not used) that make it unsure
NOISE_CHARS = 4             # fewer text-like characters than this, none usable: a picture without text
STRAY_REGION = 0.02         # a single unusable text-like region under 2 % of the picture: texture, not text
READ_CHARS = 6              # characters of main print read at LOW_CONFIDENCE or better before anything is set aside
MARK_WORDS = 2              # an unsure region of at most this many letters/digits/ideographs: a mark, set aside
SMALL_PRINT_PX = 12         # a line thinner than this (px of the picture) is small print ...
SMALL_PRINT_RATIO = 0.75    # ... and thinner than this share of the main print's thickness (a caption beside
                            # print its own size is the page's print, not a label) ...
SMALL_PRINT_LINES = 3       # ... set aside when unsure and the picture has at most this many such lines
MARK_LINES = 3              # more unsure marks than this in one picture are text broken up, not icons
MAX_SIDE = 1280          # the long side OCR works on (200 dpi A4 is 1654 x 2339 -> 905 x 1280, ~110 dpi): the
                         # detector costs ~0.6 s instead of ~1.0 s at 1600 with the same lines read on the bench
                         # pages, their ±3° / JPEG q60 / grey variants and 8 pt print (README "OCR")
# A picture cut tight round a line of small print (a pasted screenshot snippet, 74 x 11 px) gets a
# margin of its own edge colour, as wide as its long side, before OCR: without one the detector
# splits the line into single characters read at random (中国网络空间安全 -> 中 国 店 9 上 口),
# with one it reads the whole line. Only pictures whose short side is under PAD_BELOW_PX; the margin
# is at most PAD_MAX_PX (a 10,000 x 20 px strip does not become a 30,000 px picture).
PAD_BELOW_PX = 32
PAD_MAX_PX = 256
# A strip (a line or two: a text-line picture, a banner, a cropped title) is one the detector would
# magnify hugely, since it scales every picture's short side up to 736 px: a 256 x 32 line became a
# 5888 x 736 bitmap, cost ~6 s and was read as scattered characters (Hello world!你好世界 -> e, WO, 中),
# a 436 x 57 one as 内部 部资料 请勿夕 刀外传, a 305 x 64 one as 秘密 年. A picture whose short side (after
# MAX_SIDE) is under STRIP_BELOW_PX and whose long side is over STRIP_ASPECT times it gets a margin of its
# edge colour on its two long edges, to STRIP_ASPECT:1: each of those is then read as its whole line in
# ~0.6 s (tests/scanner/extract/test_ocr.py, drawn strips). Taller pictures (a long screenshot, a
# table) keep the magnification their small print needs; a strip's glyphs stay over 1x at the detector.
STRIP_BELOW_PX = 160
STRIP_ASPECT = 2
# A spaced line (a heading or a mark set with wide letter-spacing: 机  密, 绝 密 ★ 一 年) is cut by the
# detector into one region per character, each read well on its own: 机 and 密 at 1.0 as two lines,
# in which no rule sees 机密 (a picture of it passed). Pieces on one row (their heights within
# ROW_JOIN_HEIGHTS of each other, overlapping by ROW_JOIN_OVERLAP of the lower one), at most
# ROW_JOIN_GAP times their height apart, one of them a single character (ROW_JOIN_SHORT), are one
# line (join_rows): read, weighed and matched as such. Words and lines side by side (table cells,
# columns, the tiles of a watermark: 秘密 秘密 is two marks, not 秘密秘密) stay as the detector found them.
ROW_JOIN_HEIGHTS = 1.6
ROW_JOIN_OVERLAP = 0.6
ROW_JOIN_GAP = 3.0
ROW_JOIN_SHORT = 1
ROW_JOIN_MAX_LINES = 2000      # a page of more regions than this is left as read (the pairs are n²)
# A faint layer (a light-grey watermark: 内部资料 tiled diagonally across a page, semi-transparent; or
# faint ink) is read by a second pass on that layer alone: the detector, tuned on print, does not see
# text a few grey levels off the paper beside black print. The cheap test (faint_band) reads the
# grey histogram of every n-th pixel (about FAINT_TEST_SIDE on the long side): a light page (its commonest grey, the
# paper, >= FAINT_PAPER_MIN and >= FAINT_PAPER_SHARE of the pixels) with a narrow peak of one
# lighter grey (FAINT_PEAK_LEVELS wide) between FAINT_INK_MAX and the paper, holding FAINT_MIN_SHARE
# to FAINT_MAX_SHARE of the pixels and FAINT_PEAK_RATIO times the median of the other greys there
# (anti-aliased print spreads evenly over them; a flat watermark colour piles up on one), with a
# dip to below FAINT_DIP of it between the peak and the paper (not the paper's JPEG noise). The pass
# OCRs the pixels within FAINT_BAND of the peak that are not the rim of darker print (FAINT_RIM),
# drawn black on white, when at least FAINT_MIN_SHARE of the picture is left; when it reads nothing it
# tries the layer turned by FAINT_ANGLES (text at ±45° the detector missed upright). Lines it reads
# that the main pass read too are not added again.
FAINT_TEST_SIDE = 480
FAINT_PAPER_MIN = 170
FAINT_PAPER_SHARE = 0.30
FAINT_INK_MAX = 120
FAINT_PEAK_LEVELS = 5
FAINT_MIN_SHARE = 0.004
FAINT_MAX_SHARE = 0.30
FAINT_PEAK_RATIO = 4.0
FAINT_DIP = 0.5            # ... and the histogram between that peak and the paper falls below half of it
FAINT_BAND = 10
FAINT_RIM = 5              # the rim of darker print (a 5-px square around each darker pixel) is not the layer
FAINT_ANGLES = (-45, 45)
REC_BATCH = 1            # text lines per recogniser run: a batch is padded to its widest line, and lines of a
                         # page differ in width (a title, a short date line, full lines), so batches of 6
                         # (the package default) cost 1.8x the CPU of one line at a time (measured, README)
ENGINE_FILES = ("ch_PP-OCRv4_det_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx")    # from the wheel, as shipped
# The recogniser: the wheel's PP-OCRv4 rec (default), or with rec="int8" (BAOMI_OCR_REC) models/' derivation of it
# with HardSwish fused and int8 Conv/MatMul (training/ocr_quant.py, bit for bit): ~0.65x its CPU, but it
# missed a 秘密★ mark drawn as OFD outlines that float reads, so opt-in (README "OCR")
REC_FLOAT = "ch_PP-OCRv4_rec_infer.onnx"
REC_MODEL = "ch_PP-OCRv4_rec_int8.onnx"
REC_CHOICES = OCR_REC_CHOICES         # scanner.config: ScanConfig.ocr_rec validates the choice


@dataclass
class OcrOptions:
    """Per extraction: whether OCR runs, its threads, and its budget per document.

    The budget is OCR work, counted in CPU seconds of this process from the first picture on,
    divided by the engine's threads (so 300 s is ~300 s of wall clock on an idle machine, and the
    same amount of work on a loaded one, where wall clock stretches several-fold). What bounds the
    wall clock is the sandbox's watchdog (limits.wall_s + budget_s, scanner.extract.isolated);
    either way what is left unread is extract.timeout: review, never pass."""
    enabled: bool = True
    threads: int = 1
    budget_s: float = 300.0
    reason: str = ""             # why OCR is off, for the message ("light" = 轻量模式)
    rec: str = "float"           # the recogniser (REC_CHOICES; ScanConfig.ocr_rec)
    started: float | None = None     # time.process_time() at the first picture
    # pages (or frames) OCR'd so far and how many there are to OCR, after each one of a document
    # with several (a scanned PDF, a multi-page TIFF): the service's job status and the batch line
    on_progress: Callable[[int, int], None] | None = field(default=None, repr=False, compare=False)

    def remaining(self) -> float:
        if self.started is None:
            return self.budget_s
        return self.budget_s - (time.process_time() - self.started) / max(1, self.threads)


_OPTIONS: contextvars.ContextVar[OcrOptions | None] = contextvars.ContextVar("baomi_ocr_options", default=None)


def from_config(cfg) -> OcrOptions:
    """The extraction's OCR options from a scanner.config.ScanConfig: off in light mode."""
    return OcrOptions(enabled=cfg.ocr and not cfg.light, threads=cfg.ocr_threads, budget_s=cfg.ocr_budget_s,
                      reason="light" if cfg.light else ("off" if not cfg.ocr else ""), rec=cfg.ocr_rec)


def current() -> OcrOptions | None:
    """The options of the document being extracted (None outside an extraction)."""
    return _OPTIONS.get()


def options() -> OcrOptions:
    """The options in force; outside any extraction a fresh default (OCR on, a new budget)."""
    opts = _OPTIONS.get()
    return opts if opts is not None else OcrOptions()


def progress(done: int, total: int) -> None:
    """Report `done` of `total` pages OCR'd to the extraction's on_progress (never raises)."""
    opts = _OPTIONS.get()
    if opts is None or opts.on_progress is None or total < 2:
        return
    try:
        opts.on_progress(done, total)
    except Exception:        # a progress sink never stops an extraction
        pass


PROGRESS_MARK = b"baomi-progress:"      # the extraction child's progress lines on stderr (done/total)


def stderr_progress(done: int, total: int) -> None:
    """The extraction child's on_progress: a line on stderr that the parent reads."""
    import os
    os.write(2, PROGRESS_MARK + b"%d/%d\n" % (done, total))


def use_options(opts: OcrOptions) -> contextvars.Token:
    return _OPTIONS.set(opts)


def reset_options(token: contextvars.Token) -> None:
    _OPTIONS.reset(token)


# -- the engine -------------------------------------------------------------------------------------

class OcrUnavailable(Exception):
    """The engine cannot be built here (package missing, model hash mismatch, load failure)."""


# one engine per recogniser in a process, with the thread count it was built with (built on first use,
# rebuilt when asked for another count; a failure is remembered, not retried)
_engines: dict[str, tuple[int, Any]] = {}
_engine_errors: dict[str, str] = {}


def model_dir():
    from pathlib import Path

    import rapidocr_onnxruntime
    return Path(rapidocr_onnxruntime.__file__).resolve().parent / "models"


def rec_model_path(choice: str = "float"):
    """The recogniser's model file (`choice`: float, the default, or int8; ScanConfig.ocr_rec, which
    validates it), checked against the manifest before it is loaded (bench/ocr_bench.py swaps it to
    compare). Another value is an error: the engine is unavailable and pictures go to review."""
    from ..modelfiles import verified_path, verify_external
    if choice not in REC_CHOICES:
        raise ValueError(f"the OCR recogniser must be one of {REC_CHOICES}, not {choice!r}")
    if choice == "int8":
        return verified_path(REC_MODEL)
    path = model_dir() / REC_FLOAT
    verify_external(REC_FLOAT, path)
    return path


def engine(threads: int = 1, rec: str = "float"):
    """The process's RapidOCR instance with recogniser `rec` and `threads` intra-op threads (built
    once, and again when another thread count is asked for: the sessions' pools are fixed when they
    are built; a failure is remembered, not retried)."""
    n = max(1, int(threads))
    built = _engines.get(rec)
    if built is not None and built[0] == n:
        return built[1]
    if rec in _engine_errors:
        raise OcrUnavailable(_engine_errors[rec])
    try:
        from ..modelfiles import verify_external
        d = model_dir()
        for name in ENGINE_FILES:
            verify_external(name, d / name)
        rec_path = rec_model_path(rec)
        from rapidocr_onnxruntime import RapidOCR
        with _quiet_thread_pools():
            eng = RapidOCR(intra_op_num_threads=n, inter_op_num_threads=1, text_score=0.0,
                           max_side_len=MAX_SIDE, print_verbose=False, rec_model_path=str(rec_path))
        eng.text_rec.rec_batch_num = REC_BATCH
    except Exception as exc:   # ImportError, ModelIntegrityError, ValueError, onnxruntime load errors
        _engine_errors[rec] = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise OcrUnavailable(_engine_errors[rec]) from None
    _engines[rec] = (n, eng)        # an engine built with another count is dropped with its pools
    return eng


class _quiet_thread_pools:
    """While the engine builds its three onnxruntime sessions: their worker threads do not spin
    while waiting for work (onnxruntime's default with more than one thread burns the CPU a
    shared machine's other jobs need; one thread, the default here, has no pool at all)."""

    def __enter__(self):
        from rapidocr_onnxruntime.utils import infer_engine
        self._cls = infer_engine.OrtInferSession
        self._orig = self._cls.__dict__["_init_sess_opts"]
        orig = self._orig.__func__

        def init_sess_opts(config):
            opts = orig(config)
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
            return opts
        self._cls._init_sess_opts = staticmethod(init_sess_opts)
        return self

    def __exit__(self, *exc):
        self._cls._init_sess_opts = self._orig
        return False


def available() -> bool:
    try:
        opts = options()
        engine(opts.threads, opts.rec)
        return True
    except OcrUnavailable:
        return False


@dataclass
class OcrLine:
    text: str
    confidence: float
    box: tuple[int, int, int, int]        # x0, y0, x1, y1 in pixels of the image, y down


def _area(box: tuple[int, int, int, int]) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _thickness(box: tuple[int, int, int, int]) -> int:
    """The short side of a line's box: its height, or its width for a line set vertically."""
    return min(max(0, box[2] - box[0]), max(0, box[3] - box[1]))


def _print_size(lines: list[OcrLine]) -> float:
    """The thickness of the print of `lines`: the character-weighted median of their thickness."""
    sized = sorted((_thickness(ln.box), text_like(ln.text)) for ln in lines)
    half, seen = sum(n for _t, n in sized) / 2, 0
    for t, n in sized:
        seen += n
        if seen >= half:
            return float(t)
    return 0.0


def _words(text: str) -> int:
    """Letters, digits and ideographs in a recognised region."""
    return sum(1 for c in text if c.isalnum())


def text_like(text: str) -> int:
    """The characters a recognised region counts for (0: not text-like): all it holds but spaces,
    when at least two of them are letters, digits or ideographs (str.isalnum) that are not one
    character repeated. Symbols alone are what shapes are read as (the arrow and bar of a toolbar
    icon read as 二←, a badge's star as ★日, rules as — or |); one character repeated is a pattern
    (III, 1111, QQQ: boxes, dashes, rings read as letters); neither is text."""
    chars = "".join(text.split())
    words = [c for c in chars if c.isalnum()]
    if len(words) < 2 or len(set(words)) == 1:
        return 0
    return len(chars)


@dataclass
class OcrResult:
    lines: list[OcrLine]
    width: int
    height: int
    seconds: float

    def set_aside(self) -> tuple[list[OcrLine], list[OcrLine]]:
        """(marks, small print): the unsure regions the measure leaves out (module docstring)."""
        like = [ln for ln in self.lines if text_like(ln.text)]
        main = [ln for ln in like if ln.confidence >= LOW_CONFIDENCE and _thickness(ln.box) >= SMALL_PRINT_PX]
        if sum(text_like(ln.text) for ln in main) < READ_CHARS:
            return [], []
        unsure = [ln for ln in like if ln.confidence < LOW_CONFIDENCE]
        # print thinner than the main print (marks aside): a few labels, a title bar and a menu; more
        # of it is the page's own print, weighed
        minor = [ln for ln in like if _words(ln.text) > MARK_WORDS
                 and _thickness(ln.box) < SMALL_PRINT_RATIO * _print_size(main)]
        small = [ln for ln in minor if ln.confidence < LOW_CONFIDENCE and _thickness(ln.box) < SMALL_PRINT_PX]
        if len(minor) > SMALL_PRINT_LINES:
            small = []
        marks = [ln for ln in unsure if not any(ln is s for s in small) and _words(ln.text) <= MARK_WORDS]
        if len(marks) > MARK_LINES:
            marks = []
        return marks, small

    def measured(self) -> list[OcrLine]:
        """The text-like lines the confidence rule weighs: all but those set aside."""
        marks, small = self.set_aside()
        out = {id(ln) for ln in (*marks, *small)}
        return [ln for ln in self.lines if text_like(ln.text) and id(ln) not in out]

    def unsure_lines(self) -> list[OcrLine]:
        """The weighed lines read below LOW_CONFIDENCE (their boxes go into the error's detail)."""
        return [ln for ln in self.measured() if ln.confidence < LOW_CONFIDENCE]

    @staticmethod
    def _weighed(lines: list[OcrLine]) -> tuple[int, float, int]:
        """(text-like characters, their confidence sum, those not used) of `lines`."""
        chars = dropped = 0
        conf_sum = 0.0
        for ln in lines:
            n = text_like(ln.text)
            chars += n
            conf_sum += n * ln.confidence
            if ln.confidence < KEEP_CONFIDENCE:
                dropped += n
        return chars, conf_sum, dropped

    @staticmethod
    def _unsure(lines: list[OcrLine]) -> bool:
        chars, conf_sum, dropped = OcrResult._weighed(lines)
        return bool(chars) and (conf_sum / chars < LOW_CONFIDENCE or dropped / chars >= DROPPED_SHARE)

    @property
    def text_confidence(self) -> float:
        """Character-weighted mean confidence of the weighed text-like lines (1.0 when there are none)."""
        chars, conf_sum, _dropped = self._weighed(self.measured())
        return conf_sum / chars if chars else 1.0

    @property
    def low_confidence(self) -> bool:
        like = [ln for ln in self.lines if text_like(ln.text)]
        every = sum(text_like(ln.text) for ln in like)
        if not every or (not any(ln.confidence >= KEEP_CONFIDENCE for ln in like) and every < NOISE_CHARS):
            return False                # no text shown: nothing was left unread
        if len(like) == 1 and like[0].confidence < KEEP_CONFIDENCE and _area(like[0].box) < STRAY_REGION * self.width * self.height:
            return False                # one small region read in a large picture's texture, nothing usable
        # setting aside only ever clears a picture: unsure both with and without what was set aside
        return self._unsure(like) and self._unsure(self.measured())

    @property
    def mean_confidence(self) -> float:
        kept = [ln for ln in self.lines if ln.confidence >= KEEP_CONFIDENCE]
        return sum(ln.confidence for ln in kept) / len(kept) if kept else 0.0


def recognize(img) -> OcrResult:
    """OCR one image (PIL image, any mode) -> lines in reading order with confidence and box."""
    import numpy as np
    opts = options()
    eng = engine(opts.threads, opts.rec)
    rgb = img.convert("RGB") if img.mode != "RGB" else img
    t0 = time.perf_counter()
    # the whole picture, not cropped to its content: the detector scales a picture whose short side
    # is under 736 px up to it, so a crop costs more and read differently (measured on the bench
    # pages: a line lost, another misread); only the long side is limited (MAX_SIDE)
    pad = snippet_margin(rgb.size)
    work = _with_margin(rgb, pad) if pad else rgb
    scale = min(1.0, MAX_SIDE / max(work.size))
    if scale < 1.0:
        work = work.resize((max(1, round(work.width * scale)), max(1, round(work.height * scale))), resample=2)
    sx, sy = strip_margin(work.size)          # in the pixels the detector is given
    if sx or sy:
        work = _with_margin(work, sx, sy)
    res, _elapse = eng(np.asarray(work))
    seconds = time.perf_counter() - t0
    lines: list[OcrLine] = []
    for quad, text, score in res or []:
        xs = [(float(p[0]) - sx) / scale - pad for p in quad]
        ys = [(float(p[1]) - sy) / scale - pad for p in quad]
        box = (max(0, int(min(xs))), max(0, int(min(ys))), min(rgb.width, int(round(max(xs)))),
               min(rgb.height, int(round(max(ys)))))
        lines.append(OcrLine(str(text), float(score), box))
    return OcrResult(join_rows(lines), rgb.width, rgb.height, seconds)


def _same_row(a: OcrLine, b: OcrLine) -> bool:
    """a and b are pieces of one spaced line: of like height, on one row, at most ROW_JOIN_GAP of
    their height apart, and one of them a single character the detector cut off (ROW_JOIN_SHORT)."""
    ha, hb = a.box[3] - a.box[1], b.box[3] - b.box[1]
    low, high = min(ha, hb), max(ha, hb)
    if low <= 0 or high > ROW_JOIN_HEIGHTS * low:
        return False
    if min(a.box[3], b.box[3]) - max(a.box[1], b.box[1]) < ROW_JOIN_OVERLAP * low:
        return False
    gap = max(b.box[0] - a.box[2], a.box[0] - b.box[2])
    if gap > ROW_JOIN_GAP * high or gap < -ROW_JOIN_OVERLAP * low:
        return False
    return min(len("".join(a.text.split())), len("".join(b.text.split()))) <= ROW_JOIN_SHORT


def join_rows(lines: list[OcrLine]) -> list[OcrLine]:
    """Pieces of one spaced line (module comment: ROW_JOIN_*) as one line: their texts left to
    right, the box round them, the character-weighted mean of their confidences; at the place of
    the first piece in reading order. Lines read as nothing are left as they are."""
    live = [i for i, ln in enumerate(lines) if ln.text.strip()]
    if len(live) < 2 or len(live) > ROW_JOIN_MAX_LINES:
        return lines
    parent = {i: i for i in live}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for n, i in enumerate(live):
        for j in live[n + 1:]:
            if _same_row(lines[i], lines[j]):
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in live:
        groups.setdefault(root(i), []).append(i)
    if all(len(g) == 1 for g in groups.values()):
        return lines
    first = {min(g): g for g in groups.values()}
    out: list[OcrLine] = []
    for i, ln in enumerate(lines):
        if i not in parent:
            out.append(ln)
            continue
        g = first.get(i)
        if g is None:
            continue                        # a later piece of a line placed already
        if len(g) == 1:
            out.append(ln)
            continue
        parts = sorted((lines[k] for k in g), key=lambda p: p.box[0])
        text = ""
        for p in parts:
            piece = p.text.strip()
            text += (" " if text and text[-1].isascii() and text[-1].isalnum() and piece[0].isascii()
                     and piece[0].isalnum() else "") + piece
        weights = [max(1, len("".join(p.text.split()))) for p in parts]
        conf = sum(w * p.confidence for w, p in zip(weights, parts)) / sum(weights)
        box = (min(p.box[0] for p in parts), min(p.box[1] for p in parts), max(p.box[2] for p in parts),
               max(p.box[3] for p in parts))
        out.append(OcrLine(text, conf, box))
    return out


def snippet_margin(size: tuple[int, int]) -> int:
    """The margin all round (px) of a picture of `size`: as wide as its long side, at most
    PAD_MAX_PX, when its short side is under PAD_BELOW_PX (a snippet); else 0."""
    return min(max(size), PAD_MAX_PX) if min(size) < PAD_BELOW_PX else 0


def strip_margin(size: tuple[int, int]) -> tuple[int, int]:
    """The margin (left/right, top/bottom px) that brings a strip of `size` (the bitmap after the
    snippet margin and MAX_SIDE) to STRIP_ASPECT:1 on its long edges; (0, 0) for other pictures."""
    w, h = size
    short, long_ = min(w, h), max(w, h)
    if short >= STRIP_BELOW_PX or long_ <= STRIP_ASPECT * short:
        return 0, 0
    extra = -(-(-(-long_ // STRIP_ASPECT) - short) // 2)     # ceil((ceil(long / aspect) - short) / 2)
    return (0, extra) if w >= h else (extra, 0)


def _with_margin(rgb, pad_x: int, pad_y: int | None = None):
    """The picture inside a margin of its commonest edge colour, `pad_x` px wide left and right and
    `pad_y` (default: the same) top and bottom (snippet_margin, strip_margin). The colour fills the
    margin evenly: not the edge pixels repeated outwards, which would smear a cut stroke into stripes."""
    import numpy as np
    from PIL import Image
    pad_y = pad_x if pad_y is None else pad_y
    a = np.asarray(rgb.convert("RGB"))
    edge = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    colours, counts = np.unique(edge, axis=0, return_counts=True)
    out = np.empty((a.shape[0] + 2 * pad_y, a.shape[1] + 2 * pad_x, 3), dtype=np.uint8)
    out[:] = colours[counts.argmax()]
    out[pad_y:pad_y + a.shape[0], pad_x:pad_x + a.shape[1]] = a
    return Image.fromarray(out)


def faint_band(img) -> tuple[int, int] | None:
    """The grey band (lo, hi) of a faint layer on a light page (module comment above), or None."""
    import numpy as np
    step = max(1, -(-max(img.size) // FAINT_TEST_SIDE))
    # every step-th pixel, not a shrunk picture: averaging would blur a thin faint stroke into the paper
    small = np.asarray(img.convert("L"))[::step, ::step]
    hist = np.bincount(small.ravel(), minlength=256).astype(np.int64)
    total = int(hist.sum())
    paper = int(hist.argmax())
    if not total or paper < FAINT_PAPER_MIN or hist[paper] < FAINT_PAPER_SHARE * total:
        return None
    top = paper - 3                       # the paper's own noise and its anti-aliased edge aside
    if top - FAINT_INK_MAX < 4 * FAINT_PEAK_LEVELS:
        return None
    sums = np.convolve(hist[FAINT_INK_MAX:top], np.ones(FAINT_PEAK_LEVELS, dtype=np.int64), mode="valid")
    peak = int(sums.argmax())
    baseline = float(np.median(sums))
    count = int(sums[peak])
    if count < FAINT_MIN_SHARE * total or count > FAINT_MAX_SHARE * total or count < FAINT_PEAK_RATIO * max(baseline, 1.0):
        return None
    # a layer of its own, not the paper's noise: between the peak and the paper the histogram dips
    # (JPEG noise and the anti-aliased edges of print fall away from the paper without a dip)
    between = sums[peak + FAINT_PEAK_LEVELS:]
    if not len(between) or between.min() > FAINT_DIP * count:
        return None
    centre = FAINT_INK_MAX + peak + FAINT_PEAK_LEVELS // 2
    return max(FAINT_INK_MAX, centre - FAINT_BAND), min(top, centre + FAINT_BAND)


def faint_layer(img, band: tuple[int, int]):
    """The pixels of `img` within `band`, black on white, at `img`'s size; None when, the rims of
    darker print aside (the anti-aliased edge of every black stroke passes through light greys),
    under FAINT_MIN_SHARE of the picture is left: no layer of its own."""
    import numpy as np
    from PIL import Image, ImageFilter
    grey = img.convert("L")
    scale = min(1.0, MAX_SIDE / max(grey.size))
    work = grey if scale >= 1.0 else grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))))
    g = np.asarray(work)
    lo, hi = band
    dark = Image.fromarray(np.where(g < lo, 255, 0).astype(np.uint8)).filter(ImageFilter.MaxFilter(FAINT_RIM))
    mask = (g >= lo) & (g <= hi) & (np.asarray(dark) == 0)
    if mask.mean() < FAINT_MIN_SHARE:
        return None
    layer = Image.fromarray(np.where(mask, 0, 255).astype(np.uint8))
    return layer if scale >= 1.0 else layer.resize(grey.size)


def _same_text(a: str, b: str) -> bool:
    a, b = "".join(a.split()), "".join(b.split())
    return bool(a) and (a in b or b in a)


def faint_pass(img, band: tuple[int, int], main: OcrResult) -> OcrResult:
    """OCR the pixels of `img` within `band` alone (black on white), upright and, when that reads no
    usable text, turned by FAINT_ANGLES; boxes in `img`'s pixels. Lines the main pass read are left
    out, and so is what is not usable text (below KEEP_CONFIDENCE or not text-like): this pass
    reads what the main pass could not see, it never makes a picture unsure."""
    layer = faint_layer(img, band)
    if layer is None:
        return OcrResult([], main.width, main.height, 0.0)
    seconds = 0.0
    kept: list[OcrLine] = []
    for angle in (0, *FAINT_ANGLES):
        if angle and options().remaining() <= 0:
            break
        work = layer.rotate(angle, expand=True, fillcolor=255) if angle else layer
        res = recognize(work.convert("RGB"))
        seconds += res.seconds
        for ln in res.lines:
            if ln.confidence < KEEP_CONFIDENCE or not text_like(ln.text):
                continue
            if any(_same_text(ln.text, m.text) for m in main.lines if m.confidence >= KEEP_CONFIDENCE):
                continue
            box = ln.box if not angle else _unrotate(ln.box, angle, work.size, layer.size)
            kept.append(OcrLine(ln.text, ln.confidence, box))
        if kept:
            break
    return OcrResult(kept, main.width, main.height, seconds)


def _unrotate(box, angle: float, rotated: tuple[int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box in a picture turned by `angle` degrees (PIL, counter-clockwise, expanded to `rotated`)
    as the box around its corners in the upright picture of `size`."""
    import math
    a = math.radians(angle)
    cx, cy = rotated[0] / 2, rotated[1] / 2
    ox, oy = size[0] / 2, size[1] / 2
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        dx, dy = x - cx, y - cy
        # PIL turns the picture counter-clockwise on screen (y down): undo it
        xs.append(ox + dx * math.cos(a) - dy * math.sin(a))
        ys.append(oy + dx * math.sin(a) + dy * math.cos(a))
    return (max(0, int(min(xs))), max(0, int(min(ys))), min(size[0], int(round(max(xs)))),
            min(size[1], int(round(max(ys)))))


# -- recording into a document ----------------------------------------------------------------------

@dataclass
class _Ledger:
    """What OCR did for one document: places read, and places not read by reason."""
    read: int = 0
    seconds: float = 0.0
    faint: int = 0                  # pictures that had a faint layer read by the second pass
    unread: dict[tuple[str, str], list] = field(default_factory=dict)     # (code, reason) -> places
    seen: set = field(default_factory=set)          # content hashes of pictures already handled
    causes: dict[tuple[str, str], set] = field(default_factory=dict)   # (code, reason) -> exception names
    set_aside: dict[str, int] = field(default_factory=dict)    # marks / small_print -> unsure regions not weighed
    unsure: dict[tuple, list] = field(default_factory=dict)    # place of an unsure picture -> its unsure boxes


def ledger(doc: Document) -> _Ledger:
    led = doc.meta.get("_ocr")
    if not isinstance(led, _Ledger):
        led = _Ledger()
        doc.meta["_ocr"] = led
    return led


def unread(doc: Document, place: tuple, code: str, reason: str = "") -> None:
    """Record visible content that was not read. place: ("page", n) | ("frame", n) | ("image", name)."""
    places = ledger(doc).unread.setdefault((code, reason), [])
    if place not in places:
        places.append(place)


_NO_MEMORY = re.compile(r"bad_alloc|[Ff]ailed to allocate|[Ii]nsufficient memory|[Oo]ut of memory|[Cc]annot allocate")


def read_into(doc: Document, img, *, place: tuple, to_points=None, **locator) -> OcrResult | None:
    """OCR `img` into `doc` as `ocr` segments (locator: page/image + per line box, size, confidence,
    and `bbox` via `to_points(box)` for PDF pages). Records what could not be read; never raises."""
    opts = options()
    if not opts.enabled:
        unread(doc, place, "extract.ocr_unavailable", opts.reason or "off")
        return None
    if opts.remaining() <= 0:
        unread(doc, place, "extract.timeout", "budget")
        return None
    if opts.started is None:
        opts.started = time.process_time()
        from .sandbox import extend_cpu_limit
        extend_cpu_limit()
    try:
        result = recognize(img)
    except OcrUnavailable:
        unread(doc, place, "extract.ocr_unavailable", "engine")
        return None
    except MemoryError:
        unread(doc, place, "extract.ocr_unavailable", "memory")
        return None
    except Exception as exc:          # onnxruntime / OpenCV failure on this bitmap
        # an allocation that failed (the sandbox's address-space cap) is said as such: onnxruntime
        # and OpenCV raise their own exception types for it, not MemoryError
        reason = "memory" if _NO_MEMORY.search(str(exc)[:2000]) else "failed"
        unread(doc, place, "extract.ocr_unavailable", reason)
        ledger(doc).causes.setdefault(("extract.ocr_unavailable", reason), set()).add(type(exc).__name__)
        return None
    led = ledger(doc)
    led.read += 1
    led.seconds += result.seconds
    faint = None
    try:
        band = faint_band(img)
        if band is not None and opts.remaining() > 0:
            faint = faint_pass(img, band, result)
            led.seconds += faint.seconds
            led.faint += 1
    except Exception:      # noqa: BLE001 - the main pass was read; a failed second look leaves it as it is
        faint = None
    n = 0
    for ln, extra in [*((ln, {}) for ln in result.lines), *((ln, {"pass": "faint"}) for ln in (faint.lines if faint else ()))]:
        if ln.confidence < KEEP_CONFIDENCE or not ln.text.strip():
            continue
        n += 1
        loc = dict(locator)
        loc.update(line=n, box=list(ln.box), size=[result.width, result.height],
                   confidence=round(ln.confidence, 3), **extra)
        if to_points is not None:
            loc["bbox"] = to_points(ln.box)
        doc.add("ocr", ln.text, **loc)
    marks, small = result.set_aside()
    for key, lines in (("marks", marks), ("small_print", small)):
        if lines:
            led.set_aside[key] = led.set_aside.get(key, 0) + len(lines)
    if result.low_confidence:
        unread(doc, place, "extract.ocr_low_confidence")
        led.unsure.setdefault(place, []).extend(list(ln.box) for ln in result.unsure_lines())
    return result


UNSURE_BOXES = 12          # unsure regions named in an ocr_low_confidence error's detail (pixel boxes, no text)


def _unsure_boxes(led: _Ledger, places: list) -> str:
    """'; unsure regions: page 7 [x0, y0, x1, y1] ...' for the error's detail (where to look; never text)."""
    parts: list[str] = []
    total = 0
    for place in places:
        boxes = led.unsure.get(place, [])
        total += len(boxes)
        for box in boxes:
            if len(parts) < UNSURE_BOXES:
                kind, name = place
                label = f"{kind} {str(name).rsplit('/', 1)[-1]}" if name is not None else kind
                parts.append(f"{label} {box}")
    if not parts:
        return ""
    more = f" and {total - len(parts)} more" if total > len(parts) else ""
    return f"; unsure regions (px): {'; '.join(parts)}{more}"


def _places_zh(places: list) -> str:
    pages = sorted({p[1] for p in places if p[0] == "page"})
    frames = sorted({p[1] for p in places if p[0] == "frame"})
    images = [p[1] for p in places if p[0] == "image"]
    parts = []
    if pages:
        parts.append(f"第 {_ranges(pages)} 页")
    if frames:
        parts.append(f"图片第 {_ranges(frames)} 帧")
    named = [str(n).rsplit("/", 1)[-1] for n in images if n]
    if named:
        more = f" 等 {len(named)} 张" if len(named) > 5 else ""
        parts.append("嵌入图片 " + "、".join(named[:5]) + more)
    elif images:
        parts.append("该图片")
    return "，".join(parts) or "该图片"


def _ranges(nums: list[int]) -> str:
    out, start, prev = [], None, None
    for n in nums:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = prev = n
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}–{prev}")
    if len(out) > 12:
        out = out[:12] + ["…"]
    return "、".join(out)


def finish(doc: Document) -> None:
    """Turn the document's OCR ledger into errors (one per code and reason) and meta figures."""
    led = doc.meta.pop("_ocr", None)
    if not isinstance(led, _Ledger):
        return
    if led.read:
        doc.meta["ocr_images"] = led.read
        doc.meta["ocr_seconds"] = round(led.seconds, 2)
    if led.faint:
        doc.meta["ocr_faint_layers"] = led.faint
    if led.set_aside:
        doc.meta["ocr_set_aside"] = dict(led.set_aside)
    for (code, reason), places in led.unread.items():
        where = _places_zh(places)
        detail = f"{reason}: {len(places)} place(s)"
        causes = led.causes.get((code, reason))
        if causes:
            detail += f" ({', '.join(sorted(causes))})"        # the exceptions' class names, never their text
        if code == "extract.ocr_unavailable":
            doc.errors.append(E.ocr_unavailable(where, reason, detail))
        elif code == "extract.ocr_low_confidence":
            doc.errors.append(E.ocr_low_confidence(where, detail + _unsure_boxes(led, places)))
        elif code == "extract.image_unreadable":
            doc.errors.append(E.image_unreadable(where, detail))
        elif code == "extract.ocr_unsupported_image":
            doc.errors.append(E.ocr_unsupported_image(where, detail))
        else:
            doc.errors.append(E.ocr_timeout(where, detail))


# -- findings on OCR text ---------------------------------------------------------------------------

def annotate_finding(f, seg):
    """A finding on an OCR line, as a copy (findings are frozen): its box narrowed to the matched
    characters (by their share of the line, the line's own box kept as line_box), and an explanation
    that says it was read from a picture, with the recogniser's confidence."""
    loc = dict(f.location)
    n = max(1, len(seg.text))
    a, b = max(0, f.start) / n, min(n, f.end) / n
    for key in ("box", "bbox"):
        box = loc.get(key)
        if not (isinstance(box, list) and len(box) == 4):
            continue
        x0, x1 = box[0], box[2]
        loc["line_" + key] = list(box)
        nb = [x0 + (x1 - x0) * a, box[1], x0 + (x1 - x0) * b, box[3]]
        loc[key] = [round(v, 1) if isinstance(box[0], float) or key == "bbox" else int(round(v)) for v in nb]
    conf = loc.get("confidence")
    explanation = f.explanation
    if "图片文字识别" not in explanation:
        pct = f"，置信度 {float(conf):.0%}" if isinstance(conf, (int, float)) else ""
        explanation = f"（图片文字识别{pct}）{explanation}"
    evidence = f.evidence if "source:ocr" in f.evidence else [*f.evidence, "source:ocr"]
    return replace(f, location=loc, explanation=explanation, evidence=evidence)
