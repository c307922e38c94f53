"""OFD packages built for tests (GB/T 33190): OFD.xml, one document, its pages and extra parts."""
from __future__ import annotations

import io
import zipfile

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def ofd_package(layers: list[str], *, common_data: str = "", document_extra: str = "",
                parts: dict[str, bytes | str] | None = None) -> bytes:
    """One page per entry of `layers`: the objects of its Layer (XML), or a whole page when the
    entry starts with "<ofd:Page" (written as given, e.g. malformed). common_data: extra XML of the
    document's CommonData; document_extra: XML after its Pages; parts: more members by name."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("OFD.xml", f'<ofd:OFD {NS} Version="1.1"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml'
                    f'</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        pages = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(layers)))
        common = f"<ofd:CommonData>{common_data}</ofd:CommonData>" if common_data else ""
        zf.writestr("Doc_0/Document.xml", f"<ofd:Document {NS}>{common}<ofd:Pages>{pages}</ofd:Pages>"
                    f"{document_extra}</ofd:Document>")
        for i, layer in enumerate(layers):
            page = layer if layer.startswith("<ofd:Page") else (
                f'<ofd:Page {NS}><ofd:Content><ofd:Layer ID="{100 + i}">{layer}</ofd:Layer></ofd:Content></ofd:Page>')
            zf.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", page)
        for name, data in (parts or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()
