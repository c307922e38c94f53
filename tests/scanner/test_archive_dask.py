"""The archive review on the Dask runner (a real LocalCluster of two worker processes): the same
register as the process pool, and resume."""
from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed")

from scanner.archive import run_archive  # noqa: E402
from support.archive_samples import AS_OF, catalog_xlsx, make_dir  # noqa: E402

pytestmark = pytest.mark.slow


def _view(res):
    return {r.path: (r.assessment.attribute, r.assessment.access, r.assessment.expiry, r.entry.get("档号") if r.entry else "")
            for r in res.rows}


def test_dask_register_matches_pool_and_resumes(tmp_path):
    make_dir(tmp_path / "in")
    (tmp_path / "in" / "WS-2021-004.png").unlink()      # light mode (no OCR): keep the items it can read
    cat = catalog_xlsx(tmp_path / "目录.xlsx")
    ref = run_archive(tmp_path / "in", tmp_path / "pool.xlsx", catalog=cat, jobs=1, light=True, as_of=AS_OF,
                      progress=False)
    res = run_archive(tmp_path / "in", tmp_path / "dask.xlsx", catalog=cat, dask="local", n_workers=2, light=True,
                      as_of=AS_OF, progress=False)
    assert res.summary.scanned_now == 5
    assert _view(res) == _view(ref)
    assert _view(res)["WS-2015-001.docx"] == ("secret_expired", "控制使用", "expired", "WS-2015-001")
    again = run_archive(tmp_path / "in", tmp_path / "dask.xlsx", catalog=cat, dask="local", n_workers=2, light=True,
                        as_of=AS_OF, progress=False)
    assert again.summary.skipped_resume == 5 and again.summary.scanned_now == 0 and _view(again) == _view(ref)
