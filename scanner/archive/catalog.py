"""The archive catalogue (目录.xlsx or .csv: 档号, 题名, 形成日期, 保管期限, optionally 文件名) and how
an item is linked to its row.

Matching, in this order (the register says which one linked each item):
1. 档号: the file's name (without extension) is the 档号, or contains it (the longest 档号 wins);
2. 文件名: the catalogue has a 文件名/文件 column naming the file;
3. 题名 = 文件名: the file's name (without extension) is the 题名;
4. 题名见于正文: the 题名 (spaces removed) appears in the first lines of the item's text.
The xlsx is read with the scanner's own reader (scanner.extract: no openpyxl at run time)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..extract import extract_bytes
from .rules import cn_number

COLUMNS = {"档号": ("档号",), "题名": ("题名", "标题", "文件题名"), "形成日期": ("形成日期", "成文日期", "日期", "形成时间"),
           "保管期限": ("保管期限",), "文件名": ("文件名", "文件", "电子文件名", "文件路径")}
_CELL = re.compile(r"^([A-Z]+)(\d+)$")
_DATE = re.compile(r"^\s*(\d{4})\s*[-./年]?\s*(\d{1,2})\s*[-./月]?\s*(\d{1,2})\s*日?\s*$")

MATCH_ZH = {"dh": "档号与文件名一致", "file": "目录文件名列", "title_name": "题名与文件名一致", "title_text": "题名见于正文", "": "未匹配"}


def parse_date(v: str) -> dt.date | None:
    """20190305, 2019-03-05, 2019年3月5日, 2019.3.5, an Excel day number (43529)."""
    v = (v or "").strip()
    if re.fullmatch(r"\d{5}(\.0+)?", v):            # an Excel serial (days since 1899-12-30)
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(v)))
    m = _DATE.match(v)
    if not m:
        return None
    try:
        return dt.date(cn_number(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


@dataclass
class Entry:
    row: int                      # the row in the catalogue (1 = the first data row)
    values: dict[str, str] = field(default_factory=dict)   # 档号, 题名, 形成日期, 保管期限, 文件名

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    @property
    def date(self) -> dt.date | None:
        return parse_date(self.get("形成日期"))


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _rows_xlsx(data: bytes, source: str) -> list[list[str]]:
    doc = extract_bytes(data, source)
    if doc.errors and not doc.segments:
        raise ValueError("目录文件无法读取")
    first = next((s.locator.get("sheet") for s in doc.segments if s.layer == "table"), None)
    grid: dict[int, dict[int, str]] = {}
    for s in doc.segments:
        if s.layer != "table" or s.locator.get("sheet") != first:
            continue
        m = _CELL.match(str(s.locator.get("cell", "")))
        if m:
            grid.setdefault(int(m.group(2)), {})[_col(m.group(1))] = s.text.strip()
    width = max((max(r) for r in grid.values()), default=0)
    return [[grid[r].get(c, "") for c in range(1, width + 1)] for r in sorted(grid)]


def _rows_csv(data: bytes) -> list[list[str]]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError("目录文件编码无法识别")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


class Catalog:
    def __init__(self, entries: list[Entry], source: str = ""):
        self.entries = entries
        self.source = source
        self.by_dh = sorted((e for e in entries if e.get("档号")), key=lambda e: -len(e.get("档号")))
        self.by_file = {e.get("文件名").replace("\\", "/").rsplit("/", 1)[-1]: e for e in entries if e.get("文件名")}
        self.by_title = {_compact(e.get("题名")): e for e in entries if e.get("题名")}

    @classmethod
    def load(cls, path: str | os.PathLike) -> Catalog:
        p = Path(path)
        return cls.from_bytes(p.read_bytes(), p.name, str(p))

    @classmethod
    def from_bytes(cls, data: bytes, name: str, source: str = "") -> Catalog:
        """A catalogue from its bytes; `name` says the format (.csv / .txt, else xlsx)."""
        rows = _rows_csv(data) if name.lower().endswith((".csv", ".txt")) else _rows_xlsx(data, name)
        header = next(((i, c) for i, c in enumerate(map(_header, rows)) if "档号" in c or "题名" in c), None)
        if header is None:
            raise ValueError("目录中没有找到“档号”或“题名”列")
        hi, cols = header
        entries = []
        for n, row in enumerate(rows[hi + 1:], 1):
            vals = {k: row[i] for k, i in cols.items() if i < len(row) and row[i]}
            if vals:
                entries.append(Entry(n, vals))
        return cls(entries, source or name)

    def match(self, path: str, head_text: str = "") -> tuple[Entry | None, str]:
        """(entry, how) for an item; ("", None) when nothing links it."""
        name = os.path.basename(path)
        stem = os.path.splitext(name)[0]
        for e in self.by_dh:
            dh = e.get("档号")
            if stem == dh:
                return e, "dh"
        for e in self.by_dh:
            if e.get("档号") in stem:
                return e, "dh"
        if name in self.by_file:
            return self.by_file[name], "file"
        e = self.by_title.get(_compact(stem))
        if e is not None:
            return e, "title_name"
        head = _compact(head_text)
        for title, e in sorted(self.by_title.items(), key=lambda kv: -len(kv[0])):
            if len(title) >= 4 and title in head:
                return e, "title_text"
        return None, ""


def _header(row: list[str]) -> dict[str, int]:
    """Column of each known heading in a row (the header row is the first naming 档号 or 题名)."""
    cols: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, cell in enumerate(row):
            if cell.replace(" ", "") in names and key not in cols:
                cols[key] = i
    return cols


def _compact(s: str) -> str:
    return "".join((s or "").split())
