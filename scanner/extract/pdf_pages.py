"""The pages of one PDF for the passes of its extraction (scanner.extract.pdf: text, then the
hidden layers of scanner.extract.pdf_layers, then pictures and OCR), each page loaded once."""
from __future__ import annotations

from contextlib import contextmanager


class Pages:
    """The pages of one PDF for the passes of its extraction (text, hidden layers, pictures and
    OCR): the first KEEP pages are loaded once, with their text page, and stay open until close()
    (loading a page is most of a small PDF's extraction time); later pages are loaded per use, as
    each pass did alone."""
    KEEP = 64

    def __init__(self, pdf):
        self.pdf = pdf
        self._pages: dict[int, object] = {}
        self._text: dict[int, object] = {}

    @contextmanager
    def page(self, i: int):
        if i in self._pages:
            yield self._pages[i]
            return
        page = self.pdf[i]
        if i < self.KEEP:
            self._pages[i] = page
            yield page
            return
        try:
            yield page
        finally:
            page.close()

    @contextmanager
    def textpage(self, i: int, page):
        """The text page of page i (`page`, from page(i)): kept with the page when the page is
        kept, else a new one closed after use."""
        if i in self._pages:
            tp = self._text.get(i)
            if tp is None:
                tp = self._text[i] = page.get_textpage()
            yield tp
            return
        tp = page.get_textpage()
        try:
            yield tp
        finally:
            tp.close()

    def close(self) -> None:
        for tp in self._text.values():
            tp.close()
        for page in self._pages.values():
            page.close()
        self._text.clear()
        self._pages.clear()
