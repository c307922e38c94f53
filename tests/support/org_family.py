"""A category family the product does not have (org.*), added the way the README says: a rule file
and a vocabulary entry (a lexicon directory's taxonomy.toml), nothing else."""
from __future__ import annotations

import shutil
from pathlib import Path

from scanner.rules import default_lexicon_dir

ORG_RULES = '''
[[rules]]
id = "org.unit.v1"
category = "org.unit"
description = "an internal unit named with its code (test family)"
regex = \'\'\'第[一二三四五六七八九十]+研究室\'\'\'
severity = "medium"
confidence = 0.9
explanation = "出现内设机构代号“{text}”。"
suggestion = "请改用对外公开的机构名称。"
examples_true = ["由第七研究室负责"]
examples_false = ["由研究室负责"]
'''

ORG_VOCABULARY = '''
[[family]]
name = "org"
zh = "机构信息"
icon = "机"
colour = "#37474f"
background = "#dde3e6"

[[category]]
name = "org.unit"
zh = "内设机构"
'''

DRAFT = "关于调整分工的通知\n该项目由第七研究室负责。\n"


def org_lexicons_in(directory: Path) -> Path:
    """A copy of the shipped lexicons with the org family added: directory/lexicons."""
    lex = directory / "lexicons"
    shutil.copytree(default_lexicon_dir(), lex)
    (lex / "rules" / "org.toml").write_text(ORG_RULES, encoding="utf-8")
    (lex / "taxonomy.toml").write_text(ORG_VOCABULARY, encoding="utf-8")
    return lex
