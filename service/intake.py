"""Reading drafts from requests: JSON text or one multipart file, file names sanitised,
types sniffed by content (magic bytes), never trusted from the name or the Content-Type."""
from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass

from fastapi import Request

from scanner.extract import formats
from scanner.extract.legacy import is_encrypted_ooxml
from scanner.extract.sniff import sniff_media_type

from .errors import err

BIDI = {"\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
        "\u2066", "\u2067", "\u2068", "\u2069", "\u061c"}
# what an upload may be, from the scanner's formats table (media type -> extensions)
SUPPORTED = {f.media_type: set(f.extensions) for f in formats.uploadable()}
KNOWN_EXT = {ext for ext in formats.BY_EXTENSION if formats.claimed(ext)}   # incl. legacy Office
TEXTLIKE_EXT = {ext for f in formats.FORMATS if f.textlike for ext in f.extensions} | {""}
UNSUPPORTED_ZH = f"不支持的文件类型（按内容识别），请转为 {formats.listing()}。"


def sanitize_filename(name: str | None) -> str:
    """Display name only (storage keys are UUIDs): no path, control, bidi or NUL characters,
    at most 255 characters."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch not in BIDI and unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".") or "upload"
    if len(name) > 255:
        root, ext = os.path.splitext(name)
        name = root[: 255 - len(ext[:16])] + ext[:16]
    return name


@dataclass
class Draft:
    data: bytes
    filename: str
    media_type: str
    sha256: str
    fields: dict
    from_json: bool = False     # text sent as JSON (scanned in process; no parser involved)


def check_type(data: bytes, filename: str) -> str:
    if not data:
        raise err(400, "empty_file", "文件为空，无法审查。")
    mt = sniff_media_type(data, filename)
    ext = os.path.splitext(filename.lower())[1]
    if mt == formats.OLE and (is_encrypted_ooxml(data) or (ext in KNOWN_EXT and ext not in SUPPORTED[mt])):
        # an OLE container under an OOXML name is an encrypted docx/xlsx (or a disguised file);
        # legacy .doc/.wps/.xls/.et/.ppt/.dps are accepted and converted by the scanner (LibreOffice)
        raise err(415, "encrypted_or_legacy_office",
                  "文件为加密的 Office 文档（或扩展名与旧版 Office 内容不符），请解除加密并另存为 docx/xlsx 后重新提交。")
    if mt == formats.PDF and not data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"%PDF-":
        raise err(415, "unsupported_type", "文件内容不是 PDF（文件头不符），已拒绝。", detected="mismatch")
    if mt not in SUPPORTED:
        raise err(415, "unsupported_type", UNSUPPORTED_ZH, detected=mt)
    claimed = ext in KNOWN_EXT
    if claimed and ext not in SUPPORTED[mt] and not (formats.get(mt).textlike and ext in TEXTLIKE_EXT):
        raise err(415, "unsupported_type", "文件扩展名与实际内容不符，已拒绝。", detected=mt)
    return mt


async def read_draft(request: Request, text_fields: tuple[str, ...] = (), max_field_chars: int = 2000,
                     max_text_bytes: int | None = None) -> Draft:
    """JSON {"text": ..., "filename"?: ..., <fields>} or multipart (one `file` part + fields)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: dict = {}
    if ctype == "application/json":
        raw = await request.body()
        try:
            obj = json.loads(raw)
        except ValueError:
            raise err(400, "invalid_json", "请求体不是合法的 JSON。")
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise err(422, "validation_error", "缺少 text 字段（字符串）。", fields=[{"loc": ["body", "text"], "type": "missing"}])
        for k in text_fields:
            v = obj.get(k, "")
            if not isinstance(v, str):
                raise err(422, "validation_error", "字段类型不正确。", fields=[{"loc": ["body", k], "type": "string_type"}])
            fields[k] = _field(v, max_field_chars)
        data = obj["text"].encode("utf-8", "replace")
        filename = sanitize_filename(obj.get("filename") if isinstance(obj.get("filename"), str) else "") 
        if filename == "upload":
            filename = "text.txt"
    elif ctype == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=len(text_fields) + 4, max_part_size=64 * 1024)
        try:
            up = form.get("file")
            if up is None:
                raise err(422, "validation_error", "缺少 file 文件字段。", fields=[{"loc": ["body", "file"], "type": "missing"}])
            if isinstance(up, str):      # a file part with an empty filename arrives as a field
                data, filename = up.encode("utf-8"), "upload"
            else:
                data = await up.read()
                filename = sanitize_filename(up.filename)
            for k in text_fields:
                v = form.get(k, "")
                fields[k] = _field(v if isinstance(v, str) else "", max_field_chars)
        finally:
            await form.close()
    else:
        raise err(415, "unsupported_media_type", "请求类型须为 application/json 或 multipart/form-data。")
    if max_text_bytes is not None and len(data) > max_text_bytes:
        raise err(413, "body_too_large", "文件超过大小上限。")
    mt = check_type(data, filename)
    return Draft(data, filename, mt, hashlib.sha256(data).hexdigest(), fields, ctype == "application/json")


_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _field(v: str, limit: int) -> str:
    return _CTRL.sub("", v)[:limit].strip()
