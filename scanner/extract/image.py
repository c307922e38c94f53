"""Pictures: image uploads (png, jpg, tif incl. multi-page, bmp, gif, webp, svg) and pictures
embedded in documents, read by OCR (scanner.extract.ocr) into the `ocr` layer.

Decoding is Pillow's, inside our own limits (the extraction child adds memory/CPU limits):
- at most MAX_PIXELS pixels per frame (Image.MAX_IMAGE_PIXELS is set to the same value, so
  Pillow's decompression-bomb check fires before a bigger frame is decoded), at most MAX_SIDE_PX
  on either side, at most MAX_FRAMES frames (pages of a TIFF, frames of a GIF/WebP); identical
  frames are read once;
- truncated or corrupt data is never "repaired" (LOAD_TRUNCATED_IMAGES stays off).
What cannot be decoded is `extract.image_unreadable`, with the picture named; frames beyond the
limit are `extract.truncated`.

Embedded pictures (docx/xlsx/pptx media, OFD resources, PDF image objects) are read once per
content hash; the size rule skips logos, icons, bullets and rules: a picture is OCR'd when its
short side is at least MIN_SHORT_PX (24) pixels and its area at least MIN_AREA_PX (16,000)
pixels (about 126 x 126; a one-line banner of 600 x 40 is read). A blank picture (one colour,
pixel spread below BLANK_STD) has no visible content and is not read.

EMF/WMF pictures (vector metafiles), embedded or uploaded on their own, are converted by LibreOffice
and OCR'd (`read_metafile`, `extract_metafile`), or fail closed with extract.ocr_unsupported_image.

SVG is XML: its text (<text>, <tspan>, <title>, <desc>) goes to the body layer, pictures inside it
as data: URIs are read like embedded pictures, and references to outside files or hosts are never
fetched: each is `extract.image_unreadable` (the picture it shows was not checked).
"""
from __future__ import annotations

import base64
import hashlib
import io
import re

from ..model import Document
from . import errors as E
from . import ocr

MAX_PIXELS = 64_000_000          # per frame: an A0 scan at 300 dpi is 140 M; a 200 dpi A3 is 11 M
MAX_SIDE_PX = 40_000
MAX_FRAMES = 200
MIN_SHORT_PX = 24
MIN_AREA_PX = 16_000
BLANK_STD = 3.0
MAX_EMBEDDED = 200               # pictures OCR'd per document (beyond: extract.truncated)


def _pil():
    from PIL import Image, ImageFile
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return Image


class Unreadable(Exception):
    """A picture that cannot be decoded within the limits (detail: fixed English words)."""


def open_image(data: bytes):
    """Open (not yet decode) a picture; checks its declared size against the limits."""
    Image = _pil()
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise Unreadable("decompression bomb (pixel limit)") from None
    except Image.DecompressionBombWarning:
        raise Unreadable("decompression bomb (pixel limit)") from None
    except Exception:
        raise Unreadable("not a decodable picture") from None
    check_size(img.size)
    return img


def check_size(size) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise Unreadable("empty picture")
    if w > MAX_SIDE_PX or h > MAX_SIDE_PX or w * h > MAX_PIXELS:
        raise Unreadable(f"picture too large ({w} x {h})")


def frame_count(img) -> int:
    try:
        return max(1, int(getattr(img, "n_frames", 1) or 1))
    except Exception:
        return 1


def frames(img, limit: int = MAX_FRAMES):
    """(index from 1, decoded RGB-or-L frame) for the first `limit` frames."""
    n = min(frame_count(img), limit)
    for k in range(n):
        try:
            if k:
                img.seek(k)
            check_size(img.size)
            img.load()
            yield k + 1, flatten(img)
        except Unreadable:
            raise
        except EOFError:
            return
        except Exception:
            raise Unreadable(f"frame {k + 1} could not be decoded") from None


def flatten(img):
    """A decoded frame as RGB on white (transparency composited, palettes and CMYK converted)."""
    Image = _pil()
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else arr * 0
        return Image.fromarray(arr.astype("uint8"), "L").convert("RGB")
    if img.mode == "1":
        return img.convert("L").convert("RGB")
    return img.convert("RGB") if img.mode != "RGB" else img.copy()


def blank(img) -> bool:
    """No visible content: one colour (a white page, an empty spacer)."""
    from PIL import ImageStat
    small = img.convert("L")
    small.thumbnail((256, 256))
    return max(ImageStat.Stat(small).stddev) < BLANK_STD


def worth_reading(size) -> bool:
    """The size rule for embedded pictures (module docstring)."""
    w, h = size
    return min(w, h) >= MIN_SHORT_PX and w * h >= MIN_AREA_PX


# -- image uploads ------------------------------------------------------------------------------------

def extract_image(data: bytes, doc: Document) -> None:
    """An image file: every frame (page of a TIFF) read by OCR."""
    label = _upload_label(doc)
    try:
        img = open_image(data)
    except Unreadable as exc:
        raise E.ExtractionFailed(E.image_unreadable(_where(label), str(exc)))
    n = frame_count(img)
    doc.meta["page_count"] = n
    doc.meta["image_size"] = list(img.size)
    if n > MAX_FRAMES:
        doc.errors.append(E.truncated(f"{n} frames > {MAX_FRAMES}"))
    seen: set[str] = set()
    try:
        for k, frame in frames(img):
            digest = hashlib.sha256(frame.tobytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            if blank(frame):
                continue
            place = ("page", k) if n > 1 else ("image", label)
            loc = {"page": k, "kind": "image"}
            if label:
                loc["image"] = label
            ocr.read_into(doc, frame, place=place, **loc)
            ocr.progress(k, min(n, MAX_FRAMES))
    except Unreadable as exc:
        doc.errors.append(E.image_unreadable(_where(label), str(exc)))


def _upload_label(doc: Document) -> str | None:
    """The picture's file name when it is a member of an archive (its place in messages), else None."""
    nested = doc.meta.get("nest_depth", 0) > 0
    return doc.source.replace("\\", "/").rsplit("/", 1)[-1] if nested else None


def _where(label: str | None) -> str:
    return f"图片 {label} " if label else "图片"


# -- pictures embedded in documents -----------------------------------------------------------------

def _seen(doc: Document) -> set:
    return ocr.ledger(doc).seen


def read_embedded(data: bytes, name: str, doc: Document, **locator) -> None:
    """A picture inside a document (member `name`): read once per content hash, if the size rule
    says it can carry text; what cannot be decoded is recorded as unread."""
    digest = hashlib.sha256(data).hexdigest()
    seen = _seen(doc)
    if digest in seen:
        return
    seen.add(digest)
    if len(seen) > MAX_EMBEDDED:
        if len(seen) == MAX_EMBEDDED + 1:
            doc.errors.append(E.truncated(f"more than {MAX_EMBEDDED} embedded pictures"))
        return
    try:
        meta = unpack_metafile(data)
    except E.ExtractionFailed as exc:        # a gzip'd metafile that inflates beyond the limit, or broken
        doc.errors.append(exc.error)
        return
    if meta is not None:
        read_metafile(meta, name, doc, **locator)
        return
    try:
        img = open_image(data)
    except Unreadable as exc:
        if _vector_or_unknown(data):
            return          # unknown blobs (not a picture format we know): nothing drawn to read
        ocr.unread(doc, ("image", name), "extract.image_unreadable", str(exc))
        return
    if not worth_reading(img.size):
        return
    try:
        for _k, frame in frames(img, limit=1):
            if blank(frame):
                return
            ocr.read_into(doc, frame, place=("image", name), image=name, kind="embedded_image", **locator)
    except Unreadable as exc:
        ocr.unread(doc, ("image", name), "extract.image_unreadable", str(exc))


def read_embedded_bitmap(img, key: bytes, doc: Document, *, place: tuple, to_points=None, **locator) -> None:
    """A decoded picture (a PDF image object's bitmap): dedupe by `key`, size rule, OCR."""
    digest = hashlib.sha256(key).hexdigest()
    seen = _seen(doc)
    if digest in seen or not worth_reading(img.size):
        return
    seen.add(digest)
    if len(seen) > MAX_EMBEDDED or blank(img):
        return
    ocr.read_into(doc, flatten(img), place=place, to_points=to_points, **locator)


# -- EMF/WMF (vector metafiles: Word's pasted drawings, charts, scanned pages wrapped in an EMF) -------

MAX_METAFILES = 20               # converted per document (one LibreOffice run each); beyond: review
METAFILE_SECONDS = 30
METAFILE_DPI = 200
METAFILE_EXT = (".emf", ".wmf", ".emz", ".wmz")


def unpack_metafile(data: bytes) -> bytes | None:
    """The EMF/WMF of a metafile picture, recognised by content (sniff.metafile_kind), a gzip'd
    one (.emz/.wmz) inflated within one zip member's limit (zipsafe.gunzip: beyond it
    ExtractionFailed archive_bomb, a broken stream corrupt); None when `data` is no metafile."""
    from .sniff import metafile_kind
    from .zipsafe import GZIP_MAGIC, gunzip
    if metafile_kind(data) is None:
        return None
    if not data.startswith(GZIP_MAGIC):
        return data
    inner = gunzip(data)
    return inner if metafile_kind(inner) is not None and not inner.startswith(GZIP_MAGIC) else None


def extract_metafile(data: bytes, doc: Document) -> None:
    """An EMF/WMF file uploaded on its own: converted and OCR'd like an embedded one (read_metafile),
    without the size rule (an upload is read whatever its size); unconvertible -> review."""
    label = _upload_label(doc)
    doc.meta["page_count"] = 1
    meta = unpack_metafile(data)
    if meta is None:
        raise E.ExtractionFailed(E.corrupt("not a metafile"))
    loc = {"page": 1, "kind": "image"}
    if label:
        loc["image"] = label
    read_metafile(meta, label, doc, upload=True, **loc)


def read_metafile(data: bytes, name: str | None, doc: Document, *, upload: bool = False, **locator) -> None:
    """An EMF/WMF picture: Pillow identifies it (and its size, for the size rule) but has no
    renderer on Linux (measured: "cannot find loader for this WMF file"), so LibreOffice (the
    legacy converter, scanner.extract.legacy) turns it into a PDF page, which is rendered at
    METAFILE_DPI, cropped to what is drawn and OCR'd like any picture. No LibreOffice, a failed
    or blank conversion, or more than MAX_METAFILES in one document -> extract.ocr_unsupported_image
    (review); OCR off -> extract.ocr_unavailable, as for any picture. upload: the file itself (no
    size rule; the segments' locator is the caller's, without image/kind of an embedded picture)."""
    place = ("image", name)
    try:
        size = open_image(data).size
    except Unreadable:
        size = None
    if size is not None and not upload and not worth_reading(size):
        return
    opts = ocr.options()
    if not opts.enabled:
        ocr.unread(doc, place, "extract.ocr_unavailable", opts.reason or "off")
        return
    n = doc.meta.get("metafiles_converted", 0) + 1
    doc.meta["metafiles_converted"] = n
    if n > MAX_METAFILES:
        ocr.unread(doc, place, "extract.ocr_unsupported_image", f"more than {MAX_METAFILES} metafiles")
        return
    from .legacy import soffice
    if soffice() is None:
        ocr.unread(doc, place, "extract.ocr_unsupported_image", "LibreOffice not installed")
        return
    try:
        img = metafile_picture(data)
    except E.ExtractionFailed as exc:
        ocr.unread(doc, place, "extract.ocr_unsupported_image", exc.error.code)
        return
    except Exception as exc:
        ocr.unread(doc, place, "extract.ocr_unsupported_image", f"render: {type(exc).__name__}")
        return
    if img is None:
        ocr.unread(doc, place, "extract.ocr_unsupported_image", "converted picture is blank")
        return
    if not upload:
        locator = {"image": name, "kind": "embedded_image", **locator}
    ocr.read_into(doc, img, place=place, converted="metafile", **locator)


def metafile_picture(data: bytes):
    """An EMF/WMF as the scanner reads it: converted by LibreOffice to a PDF page, rendered at
    METAFILE_DPI and cropped to what is drawn (None: blank); raises ExtractionFailed when the
    conversion fails. The OCR boxes of its findings are in this picture's pixels, so the reviewer
    page draws them on this same picture (service.web.pdfrender, op "metafile")."""
    from .legacy import convert
    pdf = convert(data, "pdf", seconds=METAFILE_SECONDS, suffix=".emf" if data[40:44] == b" EMF" else ".wmf")
    return _render_first_page(pdf)


def _render_first_page(pdf: bytes):
    """The first page of the converted PDF at METAFILE_DPI, cropped to its drawn content (None: blank)."""
    import pypdfium2 as pdfium
    from PIL import ImageOps
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        try:
            w, h = page.get_size()
            scale = min(METAFILE_DPI / 72.0, (MAX_PIXELS / max(1.0, w * h)) ** 0.5)
            bm = page.render(scale=scale)
            try:
                img = bm.to_pil().convert("RGB")
            finally:
                bm.close()
        finally:
            page.close()
    finally:
        doc.close()
    box = ImageOps.invert(img.convert("L")).point(lambda v: 255 if v > 8 else 0).getbbox()
    if box is None:
        return None
    pad = 16
    box = (max(0, box[0] - pad), max(0, box[1] - pad), min(img.width, box[2] + pad), min(img.height, box[3] + pad))
    img = img.crop(box)
    return None if blank(img) else img


_RASTER = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM", b"RIFF")


def _vector_or_unknown(data: bytes) -> bool:
    return not data.startswith(_RASTER)


MEDIA_EXT = (".png", ".jpg", ".jpeg", ".jpe", ".gif", ".bmp", ".tif", ".tiff", ".webp") + METAFILE_EXT


def add_package_media(zf, names, doc: Document, prefix: str) -> None:
    """OCR the raster pictures of an OOXML package (word/media/, xl/media/, ppt/media/) or an OFD
    (any picture member when prefix is "")."""
    from .zipsafe import read_member
    for name in sorted(names):
        if not name.startswith(prefix) or not name.lower().endswith(MEDIA_EXT):
            continue
        try:
            info = zf.getinfo(name)
        except KeyError:
            continue
        if info.file_size == 0:
            continue
        try:
            data = read_member(zf, name, 64 << 20)
        except E.ExtractionFailed as exc:
            doc.errors.append(exc.error)
            continue
        read_embedded(data, name, doc, member=name)


# -- SVG --------------------------------------------------------------------------------------------

_SVG_DOCTYPE = re.compile(rb"<!DOCTYPE\s+svg[^\[>]*>", re.I)
_TEXT_TAGS = {"text", "title", "desc", "textPath"}


def extract_svg(data: bytes, doc: Document) -> None:
    """SVG: text to the body layer, data: pictures read, external references never fetched."""
    from .xmlsafe import local, parse_xml
    raw = _SVG_DOCTYPE.sub(b"", data[: 32 << 20], count=1)     # the plain SVG 1.1 doctype (no subset) is harmless
    root = parse_xml(raw)
    doc.meta["page_count"] = 1
    k = 0
    for el in root.iter():
        tag = local(el.tag)
        if tag in _TEXT_TAGS:
            text = " ".join(t.strip() for t in el.itertext() if t.strip())
            if text:
                k += 1
                doc.add("body", text, line=k, element=tag)
        elif tag in ("image", "use", "feImage", "a", "script", "style"):
            href = el.get("{http://www.w3.org/1999/xlink}href") or el.get("href") or ""
            href = href.strip()
            if not href or href.startswith("#"):
                continue
            if tag == "image" and href.lower().startswith("data:image/"):
                pic = _data_uri(href)
                if pic is None:
                    ocr.unread(doc, ("image", "data:"), "extract.image_unreadable", "bad data URI")
                else:
                    read_embedded(pic, f"svg-image-{k}", doc, element=tag)
            elif tag in ("image", "use", "feImage"):
                # never fetched: the picture a reader would see was not checked
                doc.add("metadata", href[:2000], field="external_reference", element=tag)
                ocr.unread(doc, ("image", "外部引用"), "extract.image_unreadable", "external reference not fetched")
            else:
                doc.add("metadata", href[:2000], field="link", element=tag)
        if tag in ("script", "style") and (el.text or "").strip():
            doc.add("script", el.text[:1_000_000], element=tag)


def _data_uri(href: str) -> bytes | None:
    head, _, payload = href.partition(",")
    if ";base64" not in head.lower():
        return None
    try:
        return base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
    except ValueError:
        return None
