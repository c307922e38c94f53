"""Redacted PPTX in the original format, edited in the OOXML parts with lxml (the docx pattern).

- Findings of slide text (visible, hidden slides and shapes) and speaker notes are replaced
  character by character inside the a:t nodes they cover (a match may span runs; each run keeps
  its formatting): the paragraph's text is rebuilt exactly as scanner.extract.pptx reads it
  (`text_paragraphs`, `paragraph_text`), so finding offsets land on the same characters.
- Then every selected finding's text is replaced wherever else it still occurs in a single text
  node or attribute of any part (charts, SmartArt, layouts, alt text, the custom XML data ...).
- Comments (legacy and modern) and their authors are emptied; core/app/custom properties
  emptied, the thumbnail dropped (`package.common_part`); embedded files (ppt/embeddings/: OLE
  objects, nested workbooks/documents) removed with their frames (`package.strip_embedded`).
"""
from __future__ import annotations

from ..extract.pptx import A, paragraph_text, text_paragraphs
from .docx import redact_spans
from .ops import mask, spans_by_paragraph
from .package import redact_package

STORY_LAYERS = ("body", "hidden", "note")
_CLEARED_PARTS = ("ppt/commentAuthors.xml", "ppt/authors.xml")


def _char_map(p) -> list[tuple]:
    """One (a:t node, index) per character of `paragraph_text(p)`, (None, None) for a line break."""
    out: list[tuple] = []
    for node in p.iter(A + "t", A + "br"):
        if node.tag == A + "t":
            out.extend((node, i) for i in range(len(node.text or "")))
        else:
            out.append((None, None))
    return out


def redact_pptx(data: bytes, findings: list, mode: str = "block") -> bytes:
    texts = {f.text: mask(f.text, f.category, mode) for f in findings if f.text}

    def edit(name: str, root) -> bool:
        by_para = spans_by_paragraph(findings, name, STORY_LAYERS)
        paras = text_paragraphs(root) if by_para else []
        for i, spans in by_para.items():
            if 0 <= i < len(paras):
                redact_spans(_char_map(paras[i]), paragraph_text(paras[i]), spans, mode)
        return True

    return redact_package(data, "ppt/", texts, edit,
                          lambda name: name in _CLEARED_PARTS or name.startswith("ppt/comments/"))


__all__ = ["redact_pptx"]
