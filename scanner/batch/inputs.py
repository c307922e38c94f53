"""What to scan: the one path walker. Paths, directories (walked in a stable order), list files
(`@list.txt` or `list_file`: one path per line, `#` comments) become Items keyed by
(path, size, mtime_ns), the resume key."""
from __future__ import annotations

import os
from dataclasses import dataclass
from collections.abc import Iterable, Iterator


@dataclass(frozen=True)
class Item:
    path: str
    size: int
    mtime_ns: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.path, self.size, self.mtime_ns)


def _stat_item(path: str) -> Item:
    try:
        st = os.stat(path)
    except OSError:
        return Item(path, -1, -1)       # scanned anyway: the scanner reports it as unreadable
    return Item(path, st.st_size, st.st_mtime_ns)


def iter_inputs(paths: str | os.PathLike | Iterable[str | os.PathLike], list_file: str | os.PathLike | None = None,
                exclude: Iterable[str] = (), hidden: bool = True) -> Iterator[Item]:
    """Files to scan, in a stable order: directories are walked (sorted, symlinked dirs not
    followed), plain files taken as they are, `@name` or `list_file` reads one path per line.
    hidden=False skips dot-files and dot-directories met while walking a directory (files named
    explicitly are always taken)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    excluded = {os.path.abspath(e) for e in exclude}
    seen: set[str] = set()

    def emit(p: str) -> Iterator[Item]:
        if os.path.abspath(p) in excluded or p in seen:
            return
        seen.add(p)
        yield _stat_item(p)

    def walk(src: str) -> Iterator[Item]:
        for root, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if hidden or not d.startswith("."))
            for name in sorted(files):
                if hidden or not name.startswith("."):
                    yield from emit(os.path.join(root, name))

    sources: list[str] = [str(p) for p in paths]
    if list_file:
        sources.append("@" + str(list_file))
    for src in sources:
        if src.startswith("@") and not os.path.exists(src):
            with open(src[1:], encoding="utf-8") as fh:
                for line in fh:
                    line = line.rstrip("\n").rstrip("\r")
                    if line.strip() and not line.startswith("#"):
                        yield from walk(line) if os.path.isdir(line) else emit(line)
            continue
        yield from walk(src) if os.path.isdir(src) else emit(src)
