"""Tables of private records: a pay sheet, a customer ledger, suppliers' quotations before the award.

No single cell of such a table need be a listed item (an ID number, a mobile, a term); its rows
are the private data. A table is found when one of its first rows is a header naming a person or
party column and value columns of one kind ([[kind]] in lexicons/tabular.toml), and at least
`min_rows` later rows name distinct real parties (not placeholders, units or totals) with an
amount in a value column. One medium finding per table, over the party column's header cell, whose
explanation names the columns and the number of records.

Tables are read from table cells with table/row/col locators (docx, pptx), from workbook cells
(sheet/cell) and from the lines OCR read on a picture or a scanned page, rebuilt into rows and
columns by their boxes (`ocr_tables`); a text PDF page's lines are not rebuilt into tables here.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..config import ScanConfig
from ..errors import ConfigError
from ..model import Finding, Segment
from ..policy import Policy
from ..rules import Ruleset
from ..taxonomy import VISIBLE_LAYERS
from .base import Detector, ScanContext, make_finding

RULE_FILE = "tabular.toml"
CATEGORY = {"payroll": "pii.records", "customers": "pii.records", "customer_spend": "pii.records",
            "quotations": "term.quotation"}
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d{1,7})$")
_WS = re.compile(r"\s+")
# a row's serial number read into the same OCR box as the cell beside it: 1极限思维
_OCR_SERIAL = re.compile(r"^\d{1,3}[.、．]?(?=[\u4e00-\u9fffA-Za-z])")
MAX_CELLS = 200_000       # cells read per document


def _full(p: str) -> re.Pattern:
    return re.compile(f"(?:{p})") if p else re.compile(r"(?!)")


@dataclass(frozen=True)
class Kind:
    name: str
    what: str
    party: re.Pattern
    values: re.Pattern
    min_values: int
    party_value: re.Pattern
    party_not: re.Pattern
    min_rows: int
    document_skip: re.Pattern | None


@dataclass(frozen=True)
class TabularRules:
    header_rows: int
    amount: re.Pattern
    header_unit: re.Pattern
    placeholder: re.Pattern
    total: re.Pattern
    kinds: tuple[Kind, ...]
    raw: dict
    source_hash: str

    @classmethod
    def load(cls, path: Path) -> TabularRules:
        data = path.read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
        kinds = tuple(Kind(k["name"], k["what"], _full(k["party"]), _full(k["values"]), int(k["min_values"]),
                           _full(k["party_value"]), _full(k["party_not"]), int(k["min_rows"]),
                           re.compile(k["document_skip"]) if k.get("document_skip") else None)
                      for k in raw["kind"])
        return cls(int(raw["header_rows"]), _full(raw["amount"]), re.compile(raw["header_unit"]),
                   re.compile(raw["placeholder"], re.I), re.compile(raw["total"]), kinds, raw,
                   hashlib.sha256(data).hexdigest()[:16])


@lru_cache(maxsize=4)
def load_rules(path: Path) -> TabularRules:
    return TabularRules.load(path)


# a table: rows in order, each a dict col -> (cell text, the segment of its first paragraph)
Table = list[tuple[object, dict[int, tuple[str, Segment | None]]]]


def tables_of(segs: list[Segment]) -> list[Table]:
    """The tables of the visible table cells: docx/pptx cells by (part, table) and row/col, workbook
    cells by sheet and their A1 reference. A cell of several paragraphs is their text joined."""
    grid: dict[tuple, dict[object, dict[int, list]]] = {}
    n = 0
    for s in segs:
        if s.layer not in VISIBLE_LAYERS or s.layer not in ("table", "body"):
            continue
        loc = s.locator
        if "table" in loc and "row" in loc:
            key: tuple = ("t", s.layer, loc.get("part"), loc.get("slide"), loc["table"])
            row, col = loc["row"], int(loc.get("col", 0) or 0)
        elif "sheet" in loc and isinstance(loc.get("cell"), str) and loc.get("kind") is None:
            m = _CELL_REF.match(loc["cell"])
            if not m:
                continue
            key = ("s", loc["sheet"])
            letters = m.group(1)
            col = 0
            for ch in letters:
                col = col * 26 + ord(ch) - 64
            row = int(m.group(2))
        else:
            continue
        n += 1
        if n > MAX_CELLS:
            break
        grid.setdefault(key, {}).setdefault(row, {}).setdefault(col, []).append(s)
    out: list[Table] = []
    for rows in grid.values():
        table: Table = []
        for r in sorted(rows):
            cells = {c: ("\n".join(s.text for s in ss), ss[0]) for c, ss in rows[r].items()}
            table.append((r, cells))
        out.append(table)
    return out


def _ocr_rows(lines: list[Segment]) -> list[list[Segment]]:
    """OCR lines of one picture grouped into rows: a line whose vertical centre falls inside the
    current row's first box joins that row; rows top to bottom, boxes in a row left to right."""
    rows: list[list[Segment]] = []
    top = bottom = 0.0
    for s in sorted(lines, key=lambda s: (s.locator["box"][1] + s.locator["box"][3]) / 2):
        x0, y0, x1, y1 = s.locator["box"]
        mid = (y0 + y1) / 2
        if rows and top <= mid <= bottom:
            rows[-1].append(s)
        else:
            rows.append([s])
            top, bottom = y0, y1
    return [sorted(r, key=lambda s: s.locator["box"][0]) for r in rows]


def _ocr_table(rows: list[list[Segment]], h: int) -> Table:
    """The rows from `h` on as a table whose columns are the boxes of row `h` (its header): a box
    goes to the header column it overlaps most (or, overlapping none, whose centre is nearest);
    boxes of one row in one column are joined. A leading serial number is dropped from a box that
    spans two columns (the serial column and the next)."""
    cols = [(s.locator["box"][0], s.locator["box"][2]) for s in rows[h]]
    table: Table = [(h, {c: (s.text, s) for c, s in enumerate(rows[h])})]
    for r in range(h + 1, len(rows)):
        cells: dict[int, tuple[str, Segment | None]] = {}
        for s in rows[r]:
            x0, _, x1, _ = s.locator["box"]
            overlaps = [max(0.0, min(x1, b) - max(x0, a)) for a, b in cols]
            best = max(range(len(cols)), key=lambda c: overlaps[c])
            if overlaps[best] <= 0:
                mid = (x0 + x1) / 2
                best = min(range(len(cols)), key=lambda c: abs((cols[c][0] + cols[c][1]) / 2 - mid))
            text = s.text
            if sum(1 for o in overlaps if o > 0) > 1:
                text = _OCR_SERIAL.sub("", text)
            old = cells.get(best)
            cells[best] = (old[0] + text, old[1]) if old else (text, s)
        table.append((r, cells))
    return table


def ocr_tables(segs: list[Segment], header_rows: int) -> list[Table]:
    """Tables rebuilt from the OCR lines of each picture or scanned page, one per candidate header
    row (each of its first `header_rows` rows with at least two boxes)."""
    pictures: dict[tuple, list[Segment]] = {}
    for s in segs:
        box = s.locator.get("box")
        if s.layer != "ocr" or not (isinstance(box, list) and len(box) == 4):
            continue
        key = tuple(sorted((k, str(v)) for k, v in s.locator.items()
                           if k not in ("line", "box", "confidence", "bbox")))
        pictures.setdefault(key, []).append(s)
    out: list[Table] = []
    for lines in pictures.values():
        if len(lines) < 6:
            continue
        rows = _ocr_rows(lines)
        for h in range(min(header_rows, len(rows))):
            if len(rows[h]) >= 2:
                out.append(_ocr_table(rows, h))
    return out


def table_from_rows(rows: list[list[str]]) -> Table:
    """A table built from lists of cell texts (the examples in tabular.toml)."""
    return [(i, {j: (t, None) for j, t in enumerate(r) if t}) for i, r in enumerate(rows)]


@dataclass(frozen=True)
class Hit:
    kind: Kind
    header: int                 # index of the header row in the table
    party_col: int
    columns: tuple[str, ...]    # the header texts of the party and value columns
    records: int


def _head(rules: TabularRules, text: str) -> str:
    return rules.header_unit.sub("", _WS.sub("", text))


def _is_amount(rules: TabularRules, text: str) -> bool:
    return bool(rules.amount.fullmatch(_WS.sub("", text)))


def find(rules: TabularRules, table: Table, document_text: str = "") -> Hit | None:
    """The first kind whose header and records the table holds, or None."""
    for kind in rules.kinds:
        if kind.document_skip is not None and kind.document_skip.search(_WS.sub("", document_text)):
            continue
        for h, (_, header) in enumerate(table[:rules.header_rows]):
            heads = {c: _head(rules, t) for c, (t, _) in header.items()}
            value_cols = {c for c, t in heads.items() if kind.values.fullmatch(t)}
            for pc in sorted(c for c, t in heads.items() if kind.party.fullmatch(t)):
                vcols = value_cols - {pc}
                if len({heads[c] for c in vcols}) < kind.min_values:
                    continue
                parties: set[str] = set()
                for _, cells in table[h + 1:]:
                    party = _WS.sub("", cells.get(pc, ("", None))[0])
                    if not party or rules.placeholder.match(party) or rules.total.match(party) \
                            or not kind.party_value.fullmatch(party) or kind.party_not.fullmatch(party):
                        continue
                    if any(_is_amount(rules, cells[c][0]) for c in vcols if c in cells):
                        parties.add(party)
                if len(parties) >= kind.min_rows:
                    cols = tuple(header[c][0].strip() for c in sorted({pc} | vcols))
                    return Hit(kind, h, pc, cols, len(parties))
    return None


class TabularDetector(Detector):
    name = "tabular"

    def __init__(self, rules: TabularRules):
        self.rules = rules
        self.rules_hash = rules.source_hash

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> TabularDetector:
        # the detector is always on: a lexicon directory without its rules file is a broken install
        # (a silent None would pass every pay sheet), never a way to switch it off
        path = Path(config.lexicons) / RULE_FILE
        if not path.is_file():
            raise ConfigError(f"the tabular detector's rules file is missing (expected {path})", file=RULE_FILE)
        return cls(load_rules(path))

    def detect(self, ctx: ScanContext) -> list[Finding]:
        segs = ctx.document.segments
        pictures = ocr_tables(segs, self.rules.header_rows)
        tables = tables_of(segs) + pictures
        if not tables:
            return []
        doc_text = ctx.visible_text
        if pictures:        # a picture's own title (成交结果公告) is part of what the reader sees
            doc_text += "\n" + "\n".join(s.text for s in segs if s.layer == "ocr")[:100_000]
        out: list[Finding] = []
        seen: set[str] = set()
        for table in tables:
            hit = find(self.rules, table, doc_text)
            if hit is None:
                continue
            seg = table[hit.header][1][hit.party_col][1]
            if seg is None or seg.id in seen:      # an OCR picture's candidate headers: one finding
                continue
            seen.add(seg.id)
            cols = "、".join(f"“{c}”" for c in hit.columns[:8])
            out.append(make_finding(
                seg, ctx.normalized[seg.id], 0, len(seg.text), category=CATEGORY.get(hit.kind.name, "pii.records"),
                rule_id=f"tabular.{hit.kind.name}", severity="medium", confidence=0.8,
                explanation=f"表格有{cols}等列，其下列有{hit.records}行具名记录，是{hit.kind.what}。",
                suggestion="发布前删除该表，或将姓名、名称等去标识化；如确需公开，请确认已获授权。",
                evidence=[f"table:{hit.kind.name}", f"records:{hit.records}"], normalized_offsets=False))
        return out
