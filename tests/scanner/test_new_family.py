"""Adding a category family takes two files: the rule file that emits it and its vocabulary entry
(here a lexicon directory's taxonomy.toml; in the product, a Family in scanner/taxonomy.py). The
`baomi scan` reports (text, html, SARIF) then show it with its Chinese label and colour (the
reviewer pages: tests/service/test_web_pages.py::test_a_new_category_family_on_the_pages)."""
from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.rules import default_lexicon_dir
from support.org_family import DRAFT, org_lexicons_in

ROOT = Path(__file__).resolve().parents[2]
BAOMI = [sys.executable, "-m", "scanner.cli"]

def _changed(a: Path, b: Path) -> set[str]:
    """Files that differ between two directory trees (added, removed or changed), relative paths."""
    out: set[str] = set()

    def walk(cmp: filecmp.dircmp, rel: str) -> None:
        out.update(f"{rel}{n}" for n in cmp.left_only + cmp.right_only + cmp.diff_files)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{rel}{name}/")
    walk(filecmp.dircmp(a, b), "")
    return out


@pytest.fixture(scope="module")
def org_lexicons(tmp_path_factory) -> Path:
    return org_lexicons_in(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def draft(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("draft") / "notice.txt"
    p.write_text(DRAFT, encoding="utf-8")
    return p


def scan(lex: Path, fmt: str, path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BAOMI_LEXICON_DIR": str(lex)}
    return subprocess.run(BAOMI + ["scan", "--light", "--format", fmt, str(path)], capture_output=True,
                          cwd=ROOT, env=env, timeout=120)


def test_only_the_rule_file_and_the_vocabulary_entry_changed(org_lexicons):
    assert _changed(default_lexicon_dir(), org_lexicons) == {"rules/org.toml", "taxonomy.toml"}


def test_without_the_vocabulary_entry_the_rule_file_is_refused(org_lexicons, draft, tmp_path):
    lex = tmp_path / "lexicons"
    shutil.copytree(org_lexicons, lex)
    (lex / "taxonomy.toml").unlink()
    r = scan(lex, "text", draft)
    assert r.returncode != 0 and b"unknown category family 'org'" in r.stderr and b"rules/org.toml" in r.stderr


def test_text_report_names_the_new_family(org_lexicons, draft):
    r = scan(org_lexicons, "text", draft)
    out = r.stdout.decode("utf-8")
    assert r.returncode == 1, r.stderr.decode()          # medium -> review, by the policy's severity table
    assert "内设机构（org.unit）" in out and "第七研究室" in out


def test_html_report_labels_and_colours_the_new_family(org_lexicons, draft):
    r = scan(org_lexicons, "html", draft)
    html = r.stdout.decode("utf-8")
    assert r.returncode == 1, r.stderr.decode()
    assert "内设机构（org.unit）" in html
    assert 'class="c-org"' in html and ">第七研究室</mark>" in html          # highlighted with its own class
    assert "mark.c-org{background:#dde3e6;border-bottom-color:#37474f}" in html


def test_sarif_report_describes_the_new_family(org_lexicons, draft):
    r = scan(org_lexicons, "sarif", draft)
    assert r.returncode == 1, r.stderr.decode()
    run = json.loads(r.stdout)["runs"][0]
    rule = next(x for x in run["tool"]["driver"]["rules"] if x["id"] == "org.unit.v1")
    assert rule["shortDescription"]["text"] == "内设机构" and rule["properties"]["family_zh"] == "机构信息"
    res = next(x for x in run["results"] if x["ruleId"] == "org.unit.v1")
    assert res["properties"]["category_zh"] == "内设机构" and res["level"] == "warning"
