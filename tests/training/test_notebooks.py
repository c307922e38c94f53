"""Execute every notebook in notebooks/: each code cell in order, in one namespace, like a kernel.

No Jupyter kernel is needed (no new dependency): a notebook is JSON, and its code cells are plain
Python here (no shell escapes or magics). A failing assertion in a notebook fails this test.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, capsys):
    nb = json.loads(path.read_text(encoding="utf-8"))
    ns: dict = {"__name__": "__notebook__"}
    ran = 0
    for k, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        assert not any(line.lstrip().startswith(("%", "!")) for line in src.splitlines()), \
            f"cell {k} uses IPython syntax"
        exec(compile(src, f"{path.name}[cell {k}]", "exec"), ns)
        ran += 1
    assert ran >= 5
