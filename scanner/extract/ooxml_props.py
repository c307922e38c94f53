"""OOXML package pieces shared by docx, xlsx and pptx: document properties, external
relationships, images with EXIF GPS, embedded packages."""
from __future__ import annotations

import posixpath
import zipfile

from ..model import Document
from . import errors as E
from . import extract_nested
from .xmlsafe import local, parse_xml
from .zipsafe import read_member

MAX_PROP_CHARS = 4000
# Field names as reported (locator "field"); see scanner.detectors.hidden for which are findings.
CORE_FIELDS = {
    "creator": "author", "lastModifiedBy": "lastModifiedBy", "title": "title", "subject": "subject",
    "description": "comments", "keywords": "keywords", "category": "category",
    "contentStatus": "contentStatus", "identifier": "identifier", "version": "version",
}
APP_FIELDS = {"Company": "company", "Manager": "manager", "Template": "template",
              "HyperlinkBase": "hyperlinkBase"}


def part_rels(zf: zipfile.ZipFile, names, part: str) -> dict[str, tuple[str, str]]:
    """Internal relationships of a part: id -> (resolved target, relationship type's last word)."""
    base, fname = part.rsplit("/", 1) if "/" in part else ("", part)
    rels_name = f"{base}/_rels/{fname}.rels" if base else f"_rels/{fname}.rels"
    if rels_name not in names:
        return {}
    root = parse_xml(read_member(zf, rels_name, 8 << 20))
    out = {}
    for rel in root:
        if (rel.get("TargetMode") or "").lower() == "external":
            continue
        out[rel.get("Id")] = (resolve(part, rel.get("Target") or ""), (rel.get("Type") or "").rsplit("/", 1)[-1])
    return out


def require_part(names, main: str) -> None:
    """The package's main part must exist; an encrypted OOXML file has only EncryptedPackage."""
    if main not in names:
        if "EncryptedPackage" in names:
            raise E.ExtractionFailed(E.encrypted())
        raise E.ExtractionFailed(E.corrupt(f"no {main}"))


def _simple_props(root, fields: dict, part: str, doc: Document) -> None:
    for el in root:
        field = fields.get(local(el.tag))
        if field:
            val = _text(el)
            if val:
                doc.add("metadata", val, field=field, part=part)


def _text(el) -> str:
    return "".join(el.itertext()).strip()[:MAX_PROP_CHARS]


def add_properties(zf: zipfile.ZipFile, names, doc: Document) -> None:
    """docProps/core.xml, app.xml, custom.xml -> metadata segments with locator field=..."""
    for part, fields in (("docProps/core.xml", CORE_FIELDS), ("docProps/app.xml", APP_FIELDS)):
        if part in names:
            _simple_props(parse_xml(read_member(zf, part, 4 << 20)), fields, part, doc)
    for name in sorted(n for n in names if n.startswith("customXml/item") and n.endswith(".xml")
                       and "Props" not in n)[:50]:
        # data bound to content controls, SharePoint columns, bibliography: scanned, not a finding by itself
        root = parse_xml(read_member(zf, name, 8 << 20))
        text = " ".join(t.strip() for t in root.itertext() if t.strip())
        if text:
            doc.add("metadata", text[:20000], field="custom_xml", part=name)
    if "docProps/custom.xml" in names:
        root = parse_xml(read_member(zf, "docProps/custom.xml", 4 << 20))
        for prop in root:
            if local(prop.tag) != "property":
                continue
            pname = (prop.get("name") or "")[:200]
            val = _text(prop)
            if val:
                doc.add("metadata", val, field="custom", name=pname, part="docProps/custom.xml")


def add_external_relationships(zf: zipfile.ZipFile, names, doc: Document) -> None:
    """External targets (links, remote templates, linked images) are never fetched; they are
    listed as metadata so the intranet/URL detectors see them, and counted in doc.meta."""
    count = 0
    for name in sorted(n for n in names if n.endswith(".rels")):
        try:
            root = parse_xml(read_member(zf, name, 8 << 20))
        except E.ExtractionFailed:
            raise
        for rel in root:
            if (rel.get("TargetMode") or "").lower() != "external":
                continue
            target = (rel.get("Target") or "")[:2000]
            rtype = (rel.get("Type") or "").rsplit("/", 1)[-1]
            count += 1
            if count <= 500 and target:
                doc.add("metadata", target, field="external_reference", rel_type=rtype, part=name)
    if count:
        doc.meta["external_references"] = count


# --- charts and SmartArt: visible text kept outside the main part ---------------------------------
def add_drawing_text(zf: zipfile.ZipFile, names, doc: Document, prefix: str, max_parts: int = 500) -> None:
    """Chart titles, axis titles, series and category names (a:t, c:strCache/c:v) and SmartArt
    text (diagrams/data*.xml a:t) -> body with kind chart/diagram and the part name."""
    parts = sorted(n for n in names if n.startswith(prefix) and n.endswith(".xml") and "/_rels/" not in n
                   and (n.startswith(prefix + "charts/chart") or n.startswith(prefix + "diagrams/data")))
    for name in parts[:max_parts]:
        root = parse_xml(read_member(zf, name))
        kind = "chart" if "/charts/" in name else "diagram"
        texts = []
        for el in root.iter():
            tag = local(el.tag)
            if tag == "t" and (el.text or "").strip():
                texts.append(el.text.strip())
            elif tag == "v" and kind == "chart" and (el.text or "").strip():
                anc = el.getparent()
                while anc is not None and local(anc.tag) not in ("strCache", "numCache", "multiLvlStrCache"):
                    anc = anc.getparent()
                if anc is not None and local(anc.tag) != "numCache":
                    texts.append(el.text.strip())
        seen = set()
        for i, t in enumerate(t for t in texts if not (t in seen or seen.add(t))):
            doc.add("body", t[:4000], part=name, kind=kind, paragraph=i)


# --- images: EXIF GPS ---------------------------------------------------------------------------
def _ratio(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        try:
            return v[0] / v[1]
        except Exception:
            return float("nan")


def exif_gps(data: bytes) -> tuple[float, float] | None:
    """Latitude/longitude from a JPEG/TIFF's EXIF, without decoding pixels."""
    import io
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
            gps = exif.get_ifd(0x8825) if exif else None
    except Exception:
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    try:
        def dms(t):
            d, m, s = (_ratio(x) for x in t)
            return d + m / 60 + s / 3600
        lat, lon = dms(gps[2]), dms(gps[4])
    except Exception:
        return None
    if gps.get(1) in ("S", b"S"):
        lat = -lat
    if gps.get(3) in ("W", b"W"):
        lon = -lon
    if lat != lat or lon != lon or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon


IMAGE_EXT = (".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".png", ".webp")


def add_media_gps(zf: zipfile.ZipFile, names, doc: Document, prefix: str, max_images: int = 200) -> None:
    n = 0
    for name in sorted(names):
        if not name.startswith(prefix) or not name.lower().endswith(IMAGE_EXT):
            continue
        n += 1
        if n > max_images:
            break
        info = zf.getinfo(name)
        if info.file_size > 32 << 20:
            continue
        pos = exif_gps(read_member(zf, name, 32 << 20))
        if pos:
            lat, lon = pos
            doc.add("metadata", f"{lat:.6f}, {lon:.6f}", field="exif_gps", member=name,
                    latitude=round(lat, 6), longitude=round(lon, 6))


# --- embedded packages (docx/xlsx/pptx/pdf inside a document) ----------------------------------
def add_embedded(zf: zipfile.ZipFile, names, doc: Document, prefix: str) -> None:
    for name in sorted(names):
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        info = zf.getinfo(name)
        if info.file_size == 0:
            continue
        data = read_member(zf, name)
        extract_nested(data, name, doc, member=name)


def add_package_layers(zf: zipfile.ZipFile, names, doc: Document, prefix: str) -> None:
    """Everything an OOXML package carries besides its main story, for prefix word/, xl/ or ppt/:
    properties, external references, picture GPS, picture text (OCR), chart/SmartArt text,
    embedded packages."""
    add_properties(zf, names, doc)
    add_external_relationships(zf, names, doc)
    add_media_gps(zf, names, doc, prefix + "media/")
    from .image import add_package_media
    add_package_media(zf, names, doc, prefix + "media/")      # pictures read by OCR (issue 11)
    add_drawing_text(zf, names, doc, prefix)
    add_embedded(zf, names, doc, prefix + "embeddings/")


def resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))
