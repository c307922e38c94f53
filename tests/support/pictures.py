"""Pictures and scans built in the tests: a page of Chinese text drawn with a real CJK font
(Debian's fonts-wqy-zenhei, installed by `make test` through .ci/install_office.sh), as PNG, JPEG,
TIFF, an image-only PDF, and embedded in docx/pptx/xlsx."""
from __future__ import annotations

import io
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
A4_200DPI = (1654, 2339)

CLEAN_NOTICE = [
    "关于做好春节期间安全生产工作的通知",
    "各区人民政府，市政府各部门：",
    "为切实做好春节期间安全生产工作，现将有关事项通知如下。",
    "一、各单位要加强值班值守，严格落实带班制度。",
    "二、发现安全隐患请及时向属地应急管理部门报告。",
    "联系电话：010-65123456（市应急管理局办公室）",
    "市民服务热线：12345",
    "市应急管理局",
    "2026年1月10日",
]
MARKED_NOTICE = ["秘密★5年"] + CLEAN_NOTICE
# a private person's mobile (a villager's complaint), not an office contact
PRIVATE_MOBILE = CLEAN_NOTICE[:4] + ["经查，村民王建国（手机13812345678）反映的问题属实。", "请各单位引以为戒，认真整改。",
                                     "特此通报。"]


def font(px: int):
    from PIL import ImageFont
    assert FONT.exists(), f"{FONT} missing: run `sh .ci/install_office.sh` (make test does)"
    return ImageFont.truetype(str(FONT), px)


def page(lines: list[str], size=A4_200DPI, px: int = 40, background: int = 255, top: int = 160,
         step: int = 90, rotate: float = 0.0):
    """A page of text, black on `background` grey, optionally rotated by `rotate` degrees."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", size, (background,) * 3)
    d = ImageDraw.Draw(img)
    f = font(px)
    for i, line in enumerate(lines):
        d.text((150, top + i * step), line, font=f, fill=(0, 0, 0))
    if rotate:
        img = img.rotate(rotate, resample=Image.BICUBIC, expand=False, fillcolor=(background,) * 3)
    return img


def encode(img, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def scanned_pdf(images) -> bytes:
    """An image-only PDF (one picture per page, no text layer), as a scanner writes it."""
    images = list(images)
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return buf.getvalue()


def docx_with_picture(paragraphs: list[str], picture: bytes, width_cm: float = 15) -> bytes:
    from docx import Document
    from docx.shared import Cm
    d = Document()
    for p in paragraphs:
        d.add_paragraph(p)
    d.add_picture(io.BytesIO(picture), width=Cm(width_cm))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def pptx_with_picture(title: str, picture: bytes) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = title
    slide.shapes.add_picture(io.BytesIO(picture), Inches(1), Inches(1.5), height=Inches(5.5))
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def xlsx_with_picture(cells: list[str], picture: bytes) -> bytes:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XLImage
    wb = Workbook()
    ws = wb.active
    for i, v in enumerate(cells, start=1):
        ws.cell(row=i, column=1, value=v)
    ws.add_image(XLImage(io.BytesIO(picture)), "C2")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def metafile(lines: list[str], fmt: str = "emf", px: int = 48) -> bytes:
    """A real EMF/WMF drawing of `lines` (text records in the CJK font), made by LibreOffice from an
    SVG (`soffice --convert-to emf|wmf`), as Word/WPS embed a pasted drawing."""
    import shutil
    import subprocess
    import tempfile
    from xml.sax.saxutils import escape
    exe = shutil.which("soffice")
    assert exe, "LibreOffice missing: run `sh .ci/install_office.sh` (make test does)"
    h = 80 + px * 2 * len(lines)
    body = "".join(f'<text x="30" y="{70 + i * px * 2}" font-family="WenQuanYi Zen Hei" font-size="{px}">'
                   f'{escape(t)}</text>' for i, t in enumerate(lines))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="{h}" viewBox="0 0 1200 {h}">'
           f'<rect width="1200" height="{h}" fill="white"/>{body}</svg>')
    with tempfile.TemporaryDirectory(prefix="baomi-mf-") as tmp:
        src = Path(tmp) / "drawing.svg"
        src.write_text(svg, encoding="utf-8")
        subprocess.run([exe, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", fmt,
                        "--outdir", tmp, str(src)], cwd=tmp, env={"HOME": tmp, "PATH": "/usr/bin:/bin"},
                       capture_output=True, timeout=180, check=True)
        return (Path(tmp) / f"drawing.{fmt}").read_bytes()


def with_metafile(package: bytes, data: bytes, fmt: str = "emf") -> bytes:
    """An OOXML package made with a PNG picture (docx_with_picture & co.) whose picture is replaced by
    the metafile `data`: the media part renamed to .emf/.wmf (.emz/.wmz: gzip'd), its relationship and content type
    updated, as Office writes a package with a pasted drawing."""
    import re
    import zipfile
    ctype = {"emf": "image/x-emf", "wmf": "image/x-wmf", "emz": "image/x-emz", "wmz": "image/x-wmz"}[fmt]
    src = zipfile.ZipFile(io.BytesIO(package))
    media = next(n for n in src.namelist() if "/media/" in n and n.lower().endswith(".png"))
    new = media.rsplit(".", 1)[0] + "." + fmt
    old_leaf, new_leaf = media.rsplit("/", 1)[1], new.rsplit("/", 1)[1]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            raw = src.read(info.filename)
            if info.filename == media:
                out.writestr(new, data)
                continue
            if info.filename == "[Content_Types].xml":
                text = raw.decode("utf-8")
                if f'Extension="{fmt}"' not in text:
                    text = text.replace("<Default ", f'<Default Extension="{fmt}" ContentType="{ctype}"/><Default ', 1)
                text = re.sub(r'<Override PartName="/%s"[^>]*/>' % re.escape(media), "", text)
                raw = text.encode("utf-8")
            elif info.filename.endswith(".rels"):
                raw = raw.replace(old_leaf.encode(), new_leaf.encode())
            out.writestr(info, raw)
    return buf.getvalue()


def box_stack(columns: int = 1, boxes: int = 13, size=A4_200DPI, box=(315, 135), gap: int = 47, top: int = 20):
    """A page with no text at all: columns of red filled boxes with a black outline (a layout
    engine's test page). The detector takes a column for one tall text region and the recogniser
    reads it as II, IIIIII (a pattern, not text)."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(img)
    w, h = box
    for c in range(columns):
        for i in range(boxes):
            x, y = 310 + c * 940, top + i * (h + gap)
            d.rectangle([x, y, x + w, y + h], fill=(255, 0, 0), outline=(0, 0, 0), width=2)
    return img


def toolbar(label: str = "4/10", px: int = 34):
    """A reader's page toolbar, 669 x 81 px (a pasted screenshot): first/previous-page arrow icons,
    a white box showing `label`, next/last-page icons. The recogniser reads each pair of icons as a
    symbol and a shape (不← at ~0.76 and ~0.43): symbols, not text."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (669, 81), (222, 235, 250))
    d = ImageDraw.Draw(img)
    blue, edge, gap = (40, 150, 220), (30, 110, 190), 12

    def up(x: int, bar: bool) -> None:
        if bar:
            d.rectangle((x, 14, x + 70, 22), fill=blue, outline=edge)
        d.polygon([(x, 50), (x + 35, 26), (x + 70, 50)], fill=blue, outline=edge)
        d.rectangle((x + 22, 50, x + 48, 68), fill=blue, outline=edge)

    def down(x: int, bar: bool) -> None:
        d.rectangle((x + 22, 12, x + 48, 30), fill=blue, outline=edge)
        d.polygon([(x, 30), (x + 35, 54), (x + 70, 30)], fill=blue, outline=edge)
        if bar:
            d.rectangle((x, 60, x + 70, 68), fill=blue, outline=edge)
    up(20, True)
    up(20 + 70 + gap, False)
    x = 20 + 2 * 70 + gap + 20
    d.rectangle((x, 8, x + 245, 72), fill="white", outline=(150, 150, 150))
    d.text((x + 10, 22), label, font=font(px), fill="black")
    down(x + 265, False)
    down(x + 265 + 70 + gap, True)
    return img


def watermarked(img, mark: str = "内部资料", grey: int = 215, alpha: int = 110, angle: float = 45.0,
                px: int = 90, step: tuple[int, int] = (520, 420)):
    """`img` with a faint tiled watermark across it, as office software prints one: `mark` in light
    `grey`, `alpha`/255 opaque over the page, rotated by `angle` degrees (counter-clockwise), every
    `step` pixels."""
    from PIL import Image, ImageDraw
    base = img.convert("RGBA")
    f = font(px)
    w, h = f.getbbox(mark)[2] + 20, px + 30
    tile = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((10, 10), mark, font=f, fill=(grey, grey, grey, alpha))
    tile = tile.rotate(angle, resample=Image.BICUBIC, expand=True)
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    for y in range(-tile.height // 2, base.height, step[1]):
        for x in range(-tile.width // 2 + (y // step[1] % 2) * step[0] // 2, base.width, step[0]):
            layer.alpha_composite(tile, (max(0, x), max(0, y)) if x >= 0 and y >= 0 else (0, 0)) \
                if x >= 0 and y >= 0 else None
    return Image.alpha_composite(base, layer).convert("RGB")


def table_picture(rows: list[list[str]], widths: list[int], title: str = "", px: int = 30, row_h: int = 56):
    """A ruled table as a picture (a screenshot or photo of a spreadsheet): `rows` of cell texts,
    column `widths` in pixels, an optional title line above."""
    from PIL import Image, ImageDraw
    left, top = 40, 40 + (80 if title else 0)
    size = (left * 2 + sum(widths), top + row_h * len(rows) + 40)
    img = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(img)
    f = font(px)
    if title:
        d.text((left, 40), title, font=f, fill=(0, 0, 0))
    for i, row in enumerate(rows):
        y = top + i * row_h
        x = left
        for w, cell in zip(widths, row):
            d.rectangle((x, y, x + w, y + row_h), outline=(0, 0, 0), width=2)
            d.text((x + 12, y + (row_h - px) // 2), cell, font=f, fill=(0, 0, 0))
            x += w
    return img
