"""The real-document set (tests/realdocs, issue 16): every must-catch file is caught; of the
publishable files read whole >= 95 % pass, and >= 90 % of all publishable files (the others are held
by fail-closed extraction errors: a blank fixture, an OFD page drawn as paths, a garbled text layer),
on the dev, held-out and heldout2 split separately (heldout3: recall only; heldout4, heldout5, heldout6 and the untuned heldout7, heldout8, heldout9 and heldout10 are not scanned here). The files are rebuilt by
`make realdocs` (they are not committed); without them this test is skipped, not passed."""
from __future__ import annotations

import pytest

from tests.realdocs import measure

pytestmark = pytest.mark.slow


def test_realdocs_precision_and_recall(tmp_path):
    base = measure.files_dir()
    if base is None:
        pytest.skip("real-document files absent: run `make realdocs` (needs the repository snapshots)")
    # heldout4 (session 6), heldout5 (session 7) and heldout6 (session 8) are left out as before; the
    # untuned splits (measure.UNTUNED: heldout7, heldout8, heldout9, heldout10) are measured only by the lead's
    # run (`measure.py --split heldout10`), never by this test, so that no failure message names their files
    rows = [r for r in measure.load_manifest()
            if r.get("split") not in ("heldout4", "heldout5", "heldout6") and r.get("split") not in measure.UNTUNED]
    out = tmp_path / "realdocs.jsonl"
    measure.scan(rows, base, out, jobs=2)
    figures = measure.score(rows, measure.load_results(out, base), verbose=False)
    # heldout3 (session 4, twelve other repositories) is measured once after the last rule change of
    # a session: its precision is reported in the README, not asserted here, so that no later change
    # is tuned against it; every must-catch file of every split is asserted caught
    for split, f in figures.items():
        assert f["missed"] == [], (split, f["missed"])
        if split == "heldout3":
            continue
        assert f["publishable"] > 0 and f["must_catch"] > 0, split
        assert f["read_whole_rate"] >= 0.95, (split, f["held_back"])
        assert f["pass_rate"] >= 0.90, (split, f["held_back"])
