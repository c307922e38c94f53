"""Shared test fixtures. ../shared (read-only, present in CI) holds the yardstick and public data.

Test layout mirrors the packages: tests/scanner/..., tests/service/..., tests/training/, tests/eval/
(the yardstick and the project's own labelled set), tests/e2e/ (browser), tests/support/ (helpers
imported as `support.*`). `make test` runs everything; `make test-fast` skips the suites in SLOW.
"""
from __future__ import annotations

from pathlib import Path

import training  # noqa: F401  (first: pins OpenBLAS's kernels before numpy loads, see training/__init__.py)

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# Suites marked `slow` (node-id prefixes relative to the repository): the evaluation sets, the hostile
# corpus, real processes killed and restarted, the Dask cluster, notebooks, real OCR and LibreOffice
# conversions, and the tests that scan whole corpora or very long drafts (a module may also set
# `pytestmark = pytest.mark.slow` itself). A prefix that no longer names a file fails here, so the
# table cannot go stale.
SLOW = (
    "tests/eval/",
    "tests/e2e/",
    "tests/scanner/extract/test_hostile_corpus.py",
    "tests/scanner/extract/test_ocr.py",               # real OCR of pages and pictures (issue 11)
    "tests/scanner/extract/test_legacy.py",            # real LibreOffice conversions
    "tests/service/test_web_ocr.py",
    "tests/scanner/test_distributed.py",
    "tests/service/test_process.py",
    "tests/service/test_egress.py",
    "tests/service/test_slow_clients.py",
    "tests/service/test_disk_full.py",
    "tests/training/",
    "tests/scanner/extract/test_ocr.py",
    "tests/scanner/extract/test_legacy.py",
    "tests/service/test_web_ocr.py",
    "tests/scanner/test_harm.py::test_70k_news_draft_needs_at_most_10_verdicts",
    "tests/scanner/extract/test_extract_docx_fixtures.py",
    "tests/scanner/detectors/test_hidden_redaction_pdf.py",
    "tests/scanner/redact/test_redact.py::test_scanned_pdf_boxes_from_ocr",
    "tests/scanner/redact/test_redact_outputs.py::test_rotated_scanned_pdf_boxes_from_the_ocr_pixels",
    "tests/service/test_record.py::test_record_docx_opens_in_libreoffice",      # a real LibreOffice conversion
    "tests/scanner/test_batch.py::test_sandboxed_workers_stop_spinning_and_hanging_files",
    "tests/service/test_storage.py::test_concurrent_writers_on_sqlite",
    "tests/service/test_service_cli.py",
    "tests/scanner/models/test_names_model.py::test_heldout_f1_through_scanner",
    "tests/scanner/models/test_passage_model.py::test_news_passes_through_the_full_scanner",
    "tests/service/test_site_jobs.py::test_real_server_site_job_over_http_under_strace",
    "tests/scanner/test_site_crawl.py::test_full_mode_reads_the_picture_of_a_marked_page_and_connects_only_to_loopback",
)
for _prefix in SLOW:
    assert (ROOT / _prefix.split("::")[0]).exists(), f"tests/conftest.py SLOW names a missing path: {_prefix}"


def pytest_collection_modifyitems(items):
    for it in items:
        rel = Path(str(it.fspath)).resolve().relative_to(ROOT).as_posix()
        nodeid = rel + it.nodeid[it.nodeid.index("::"):] if "::" in it.nodeid else rel
        if nodeid.startswith(SLOW):
            it.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), "../shared must exist beside the project (it does in CI)"
    return SHARED


@pytest.fixture(scope="session")
def light_scanner():
    from scanner import get_scanner
    return get_scanner(light=True)
