"""The OCR recogniser the scanner runs: PP-OCRv4 rec from the rapidocr-onnxruntime wheel, made ~1.6x
faster on one CPU core by two derivations, reproducible bit for bit from the wheel's file:

    python -m training.ocr_quant build        # models/ch_PP-OCRv4_rec_int8.onnx from the wheel + the ranges
    python -m training.ocr_quant build --check  # rebuild in a temporary dir, compare with the manifest's sha256
    python -m training.ocr_quant calibrate    # recompute the ranges (models/ch_PP-OCRv4_rec_int8.ranges.json)

1. HardSwish fused: the exported graph spells each h-swish as Add(x, 3) -> Clip(0, 6) -> Mul(x, .)
   -> Div(6), four passes over the tensor; the opset is converted 12 -> 14 (onnx.version_converter)
   and each such chain becomes one HardSwish node (28 in rec). Same function (outputs differ by
   ~1e-6); ~8 % less CPU by itself.
2. int8 static quantisation (onnxruntime.quantization, QDQ, Conv and MatMul, weights int8 per
   channel, activations uint8, MinMax ranges): onnxruntime then runs QLinearConv / integer
   MatMul. Dynamic quantisation was measured too and rejected: ConvInteger is slower than float
   here and misreads most lines (README "OCR").

The activation ranges are data, not recomputed at build time: `calibrate` renders CALIBRATION_LINES
(official-notice style lines written for this, none of them the benchmark's or the tests' text) with
the CJK font in four styles (sizes 28-48 px, grey background, +-2 deg), cuts the text lines out with
the wheel's own detector, and records the min/max of every tensor over them into the ranges file;
`build` reads that file, so the int8 model depends only on the wheel's file, the ranges, and the
pinned onnx/onnxruntime. Its sha256 is in models/manifest.json ("files") and is checked at load
(scanner.extract.ocr.engine) like every other model.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from .common import MODELS

WHEEL_REC = "ch_PP-OCRv4_rec_infer.onnx"
INT8_REC = "ch_PP-OCRv4_rec_int8.onnx"
RANGES = "ch_PP-OCRv4_rec_int8.ranges.json"
QUANT_OPS = ["Conv", "MatMul"]

CALIBRATION_LINES = [
    "关于进一步加强机关档案管理工作的意见", "各乡镇人民政府，县直各单位：",
    "为规范公文处理流程，提高办文效率，现就有关事项通知如下。", "一、严格执行收文登记制度，做到件件有登记、事事有着落。",
    "二、会议纪要应于会后三个工作日内印发。", "联系人：张伟，电话：0571-87654321",
    "附件：1. 2025年度工作计划表（共3页）", "抄送：县委办公室，县人大常委会办公室，县政协办公室。",
    "县人民政府办公室 2025年11月3日印发", "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789",
    "身份证号码：110101199003071234 邮编：310000", "（一）加快推进数字政府建设，提升“一网通办”服务水平；",
    "【机密】★10年 内部资料 注意保存", "第三章 第十二条 本办法自发布之日起施行。",
]
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"     # Debian's fonts-wqy-zenhei (.ci/install_office.sh)
STYLES = [(34, 255, 0.0), (40, 230, 2.0), (28, 255, -2.0), (48, 200, 0.0)]    # px, background, rotation


def wheel_rec() -> Path:
    from scanner.extract.ocr import model_dir
    from scanner.modelfiles import verify_external
    path = model_dir() / WHEEL_REC
    verify_external(WHEEL_REC, path)
    return path


def fuse_hardswish(model):
    """Opset 12 -> 14 and each Add(x,3)/Clip(0,6)/Mul(x,.)/Div(6) chain -> HardSwish(x); returns (model, n)."""
    from onnx import helper, numpy_helper, version_converter
    model = version_converter.convert_version(model, 14)
    g = model.graph
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in g.node
              if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"}
    consts.update({i.name: numpy_helper.to_array(i) for i in g.initializer})

    def scalar(name: str, value: float) -> bool:
        v = consts.get(name)
        return v is not None and v.size == 1 and float(v.reshape(-1)[0]) == value

    producer = {o: n for n in g.node for o in n.output}
    consumers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    drop: set[int] = set()
    replace: dict[int, object] = {}
    for clip in [n for n in g.node if n.op_type == "Clip"]:
        add = producer.get(clip.input[0])
        if add is None or add.op_type != "Add" or len(consumers.get(add.output[0], [])) != 1:
            continue
        xs = [i for i in add.input if i not in consts]
        if len(xs) != 1 or not any(scalar(i, 3.0) for i in add.input) or len(clip.input) < 3:
            continue
        if not (scalar(clip.input[1], 0.0) and scalar(clip.input[2], 6.0)):
            continue
        after = consumers.get(clip.output[0], [])
        if len(after) != 1 or after[0].op_type != "Mul" or xs[0] not in after[0].input:
            continue
        mul = after[0]
        after = consumers.get(mul.output[0], [])
        if len(after) != 1 or after[0].op_type != "Div" or not scalar(after[0].input[1], 6.0):
            continue
        div = after[0]
        replace[id(div)] = helper.make_node("HardSwish", [xs[0]], [div.output[0]], name=f"hardswish_{len(replace)}")
        drop |= {id(add), id(clip), id(mul)}
    nodes = [replace.get(id(n), n) for n in g.node if id(n) not in drop]
    used = {i for n in nodes for i in n.input}
    nodes = [n for n in nodes if not (n.op_type == "Constant" and n.output[0] not in used)]
    del g.node[:]
    g.node.extend(nodes)
    return model, len(replace)


def _calibration_reader():
    """The recogniser's inputs for the calibration lines: (1, 3, 48, W) float32, one line each."""
    import numpy as np
    from onnxruntime.quantization import CalibrationDataReader
    from rapidocr_onnxruntime import RapidOCR
    from PIL import Image, ImageDraw, ImageFont

    from scanner.extract.ocr import MAX_SIDE
    eng = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False)
    items = []
    for k, (px, bg, rot) in enumerate(STYLES):
        lines = CALIBRATION_LINES[k:] + CALIBRATION_LINES[:k]
        img = Image.new("RGB", (1654, 2339), (bg,) * 3)       # A4 at 200 dpi
        draw, font = ImageDraw.Draw(img), ImageFont.truetype(FONT, px)
        for i, line in enumerate(lines):
            draw.text((150, 120 + i * int(px * 2.2)), line, font=font, fill=(0, 0, 0))
        img = img.rotate(rot, resample=Image.BICUBIC, fillcolor=(bg,) * 3) if rot else img
        scale = min(1.0, MAX_SIDE / max(img.size))
        img = img.resize((round(img.width * scale), round(img.height * scale)), resample=2)
        arr = np.asarray(img)
        boxes, _ = eng.text_det(arr)
        for crop in eng.get_crop_img_list(arr, eng.sorted_boxes(boxes)):
            h, w = crop.shape[:2]
            items.append(eng.text_rec.resize_norm_img(crop, max(320 / 48, w / h))[None].astype(np.float32))

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(items)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {"x": x}
    return Reader(), len(items)


def build(out_dir: Path, ranges: Path, calibrate: bool = False) -> dict:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    src = wheel_rec()
    model, fused = fuse_hardswish(onnx.load(str(src)))
    reader, n_lines = (None, 0)
    if calibrate:
        ranges.unlink(missing_ok=True)
        reader, n_lines = _calibration_reader()
    elif not ranges.exists():
        raise SystemExit(f"{ranges} missing: run `python -m training.ocr_quant calibrate` first")
    with tempfile.TemporaryDirectory(prefix="baomi-ocrq-") as tmp:
        fused_path, pre_path = Path(tmp) / "fused.onnx", Path(tmp) / "pre.onnx"
        onnx.save(model, str(fused_path))
        quant_pre_process(str(fused_path), str(pre_path), skip_symbolic_shape=True)
        out = out_dir / INT8_REC
        quantize_static(str(pre_path), str(out), reader, quant_format=QuantFormat.QDQ, op_types_to_quantize=QUANT_OPS,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, calibration_cache_path=str(ranges))
    from scanner.modelfiles import sha256_file
    info = {"derived_from": f"{WHEEL_REC} of rapidocr-onnxruntime==1.4.4 (sha256 {sha256_file(src)[:16]}…)",
            "derivation": f"HardSwish fused ({fused} nodes), int8 static QDQ of {'+'.join(QUANT_OPS)} "
                          f"(per-channel int8 weights, uint8 activations, MinMax ranges from {RANGES})",
            "command": "python -m training.ocr_quant build", "size_bytes": out.stat().st_size,
            "sha256": sha256_file(out)}
    info["calibration"] = f"{len(CALIBRATION_LINES)} lines x {len(STYLES)} styles, cut by the wheel's detector"
    if calibrate:
        info["calibration"] += f" ({n_lines} line images)"
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.ocr_quant")
    ap.add_argument("step", choices=["build", "calibrate"])
    ap.add_argument("--check", action="store_true", help="build in a temporary dir and compare with the manifest")
    a = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ranges = MODELS / RANGES
    if a.check:
        from scanner.modelfiles import manifest
        with tempfile.TemporaryDirectory(prefix="baomi-ocrq-") as tmp:
            info = build(Path(tmp), ranges)
        want = manifest(MODELS)["files"][INT8_REC]["sha256"]
        print(json.dumps({"built": info["sha256"], "manifest": want, "same": info["sha256"] == want}))
        return 0 if info["sha256"] == want else 1
    info = build(MODELS, ranges, calibrate=a.step == "calibrate")
    from scanner.detectors._models import record
    record(INT8_REC, MODELS, **{k: v for k, v in info.items() if k != "sha256"})
    print(json.dumps(info, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
