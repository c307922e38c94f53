"""The OCR engine's model files are pinned in models/manifest.json ("external") and match the installed
wheel: a fast guard (not `slow`), so that rewriting the manifest cannot silently turn every picture
into extract.ocr_unavailable (it did once: the OCR suites are `slow` and test-fast skipped them)."""
from __future__ import annotations

from scanner.extract import ocr
from scanner.modelfiles import manifest, verify_external


def test_every_engine_file_is_in_the_manifest_and_matches_the_wheel():
    external = manifest().get("external", {})
    d = ocr.model_dir()
    for name in ocr.ENGINE_FILES:
        assert name in external, name
        assert external[name]["package"].startswith("rapidocr-onnxruntime==")
        verify_external(name, d / name)          # raises ModelIntegrityError on a mismatch
