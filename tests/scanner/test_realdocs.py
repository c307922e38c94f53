"""The real-document set (tests/realdocs, issue 16): every must-catch file is caught; of the
publishable files read whole >= 95 % pass, and >= 90 % of all publishable files (the others are held
by fail-closed extraction errors: a blank fixture, an OFD page drawn as paths, a garbled text layer),
on the dev, held-out and heldout2 split separately (heldout3 and heldout4: recall only). The files are rebuilt by
`make realdocs` (they are not committed); without them this test is skipped, not passed."""
from __future__ import annotations

import pytest

from tests.realdocs import measure

pytestmark = pytest.mark.slow


def test_realdocs_precision_and_recall(tmp_path):
    base = measure.files_dir()
    if base is None:
        pytest.skip("real-document files absent: run `make realdocs` (needs the repository snapshots)")
    rows = measure.load_manifest()
    out = tmp_path / "realdocs.jsonl"
    measure.scan(rows, base, out, jobs=2)
    figures = measure.score(rows, measure.load_results(out, base), verbose=False)
    # heldout3 (session 4) and heldout4 (session 6, twelve further repositories): their precision is
    # reported in the README, not asserted here (heldout4 is measured once after the last rule change
    # of a session, so that no change is tuned against it); every must-catch file of every split is
    # asserted caught
    for split, f in figures.items():
        assert f["missed"] == [], (split, f["missed"])
        if split in ("heldout3", "heldout4"):
            continue
        assert f["publishable"] > 0 and f["must_catch"] > 0, split
        assert f["read_whole_rate"] >= 0.95, (split, f["held_back"])
        assert f["pass_rate"] >= 0.90, (split, f["held_back"])
