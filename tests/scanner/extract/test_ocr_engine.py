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


def test_the_recogniser_is_the_wheels_by_default_and_the_int8_file_on_request(monkeypatch):
    """By default the engine loads the wheel's float recogniser (checked against "external"); with
    rec "int8" (ScanConfig.ocr_rec, BAOMI_OCR_REC=int8) the derived file; any other value is refused
    (the engine is then unavailable). The environment is read by ScanConfig.from_env only."""
    import pytest
    assert ocr.rec_model_path() == ocr.model_dir() / ocr.REC_FLOAT
    assert ocr.rec_model_path("int8").name == ocr.REC_MODEL
    with pytest.raises(ValueError):
        ocr.rec_model_path("fast")
    monkeypatch.setenv("BAOMI_OCR_REC", "int8")              # not read behind the caller's back
    assert ocr.rec_model_path() == ocr.model_dir() / ocr.REC_FLOAT
    assert ocr.OcrOptions().rec == "float"
    with pytest.raises(ocr.OcrUnavailable, match="fast"):
        ocr.engine(1, "fast")


def test_the_int8_recogniser_is_the_derived_file_checked_by_hash(tmp_path, monkeypatch):
    """models/ch_PP-OCRv4_rec_int8.onnx (training/ocr_quant.py), what BAOMI_OCR_REC=int8 loads: listed
    with its sha256 and provenance, derived from the wheel file the manifest pins; a changed byte is refused."""
    import shutil

    import pytest

    from scanner.errors import ModelIntegrityError
    from scanner.modelfiles import models_dir, verified_path
    entry = manifest()["files"][ocr.REC_MODEL]
    assert entry["command"] == "python -m training.ocr_quant build" and "ch_PP-OCRv4_rec_infer.onnx" in entry["derived_from"]
    assert "ch_PP-OCRv4_rec_infer.onnx" in manifest()["external"]
    assert verified_path(ocr.REC_MODEL) == models_dir() / ocr.REC_MODEL
    shutil.copy(models_dir() / "manifest.json", tmp_path / "manifest.json")
    data = bytearray((models_dir() / ocr.REC_MODEL).read_bytes())
    data[len(data) // 2] ^= 1
    (tmp_path / ocr.REC_MODEL).write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        verified_path(ocr.REC_MODEL, tmp_path)
    eng = ocr.engine(1)
    assert eng.text_rec.session.session._model_path.endswith(ocr.REC_FLOAT)


def _threads(eng) -> tuple[int, int, int]:
    """The intra-op thread counts the engine's three onnxruntime sessions were built with."""
    return tuple(s.get_session_options().intra_op_num_threads
                 for s in (eng.text_det.infer.session, eng.text_cls.infer.session, eng.text_rec.session.session))


def test_the_engine_follows_a_changed_thread_count():
    """ocr.engine(threads) is cached per recogniser, but a cached engine built with another thread
    count is not handed back: the sessions' pools are fixed when they are built (it used to keep the
    first count for the life of the process, whatever ScanConfig.ocr_threads said later)."""
    one = ocr.engine(1)
    assert _threads(one) == (1, 1, 1)
    two = ocr.engine(2)
    assert two is not one and _threads(two) == (2, 2, 2)
    assert ocr.engine(2) is two                      # built once per count
    assert two.text_rec.rec_batch_num == ocr.REC_BATCH
    assert _threads(ocr.engine(1)) == (1, 1, 1)
