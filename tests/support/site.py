"""A small website served on loopback by the tests (http.server in a thread): pages, a linked PDF
holding an ID number, a linked docx with a mark, a picture of a marked page (OCR), robots.txt
disallowing /private/, an off-host link, and a page the test can change between two runs. Every
request is recorded (the tests assert what was and was not fetched)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackSite:
    """Serve {path: (content_type, bytes)} on host:0; `requests` lists the paths asked for."""

    def __init__(self, host: str = "127.0.0.1", files: dict[str, tuple[str, bytes]] | None = None):
        self.files: dict[str, tuple[str, bytes]] = dict(files or {})
        self.requests: list[str] = []
        self.agents: set[str] = set()
        site = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):      # noqa: N802 (http.server's name)
                site.requests.append(self.path)
                site.agents.add(self.headers.get("User-Agent", ""))
                path = self.path.split("?", 1)[0]
                if path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                hit = site.files.get(path)
                if hit is None:
                    self.send_error(404)
                    return
                ctype, body = hit
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.redirects: dict[str, str] = {}
        self.httpd = ThreadingHTTPServer((host, 0), H)
        self.host, self.port = host, self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def __enter__(self) -> LoopbackSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def html(self, path: str, title: str, body: str) -> None:
        self.files[path] = ("text/html; charset=utf-8",
                            f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
                            f"<body>{body}</body></html>".encode())


ID_PREFIX = "32010219850612301"     # the ID number in the PDF: support.service_helpers.valid_id_number(ID_PREFIX)
NEWS2_V1 = "<h1>市政府召开常务会议</h1><p>会议研究部署了春季农业生产和城市更新工作。</p>"
NEWS2_V2 = NEWS2_V1 + "<p>联系人：王建国，手机13812345678，身份证号{id}。</p>"


def inspection_site(site: LoopbackSite, offsite_url: str, with_ocr: bool = True) -> dict[str, str]:
    """Fill `site` with the inspection fixture; returns the paths by role."""
    from support.drafts import docx_bytes, pdf_bytes
    from support.service_helpers import valid_id_number
    idn = valid_id_number(ID_PREFIX)
    site.files["/robots.txt"] = ("text/plain", b"User-agent: *\nDisallow: /private/\n")
    img = '<p><img src="/img/scan.png" alt="扫描件"></p>' if with_ocr else ""
    site.html("/", "某市人民政府门户网站",
              "<h1>首页</h1><ul>"
              "<li><a href='/news/1.html'>关于做好春节期间安全生产工作的通知</a></li>"
              "<li><a href='news/2.html'>市政府召开常务会议</a></li>"
              "<li><a href='/files/notice.pdf'>附件：人员名单.pdf</a></li>"
              "<li><a href='/files/plan.docx'>附件：工作方案.docx</a></li>"
              "<li><a href='/private/internal.html'>内部通知栏目</a></li>"
              f"<li><a href='{offsite_url}'>友情链接</a></li>"
              "<li><a href='mailto:office@example.gov.cn'>联系我们</a></li>"
              "<li><a href='ftp://files.example.gov.cn/a.txt'>FTP</a></li>"
              "<li><a href='/static/site.css'>样式</a></li>"
              "<li><a href='/old.html'>旧栏目</a></li>"
              "</ul>")
    site.redirects["/old.html"] = "/news/1.html"
    site.html("/news/1.html", "关于做好春节期间安全生产工作的通知",
              "<p>各区人民政府，市政府各部门：为切实做好春节期间安全生产工作，现将有关事项通知如下。</p>"
              f"{img}<p><a href='/'>返回首页</a> <a href='/missing.html'>失效链接</a></p>")
    site.html("/news/2.html", "市政府召开常务会议", NEWS2_V1)
    site.files["/files/notice.pdf"] = ("application/pdf", pdf_bytes(
        ["关于公布志愿者名单的通知", f"张伟，身份证号码：{idn}，联系电话：13912345678", "市志愿者协会"]))
    site.files["/files/plan.docx"] = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                      docx_bytes(["秘密★5年", "关于2027年度重点工作的实施方案", "一、总体要求",
                                                  "二、工作安排：按计划推进。"]))
    site.html("/private/internal.html", "内部", "<p>机密★10年</p>")
    site.files["/static/site.css"] = ("text/css", b"body{}")
    if with_ocr:
        from support.pictures import MARKED_NOTICE, encode, page
        site.files["/img/scan.png"] = ("image/png", encode(page(MARKED_NOTICE)))
    return {"idn": idn}


def change_news2(site: LoopbackSite, idn: str) -> None:
    site.html("/news/2.html", "市政府召开常务会议", NEWS2_V2.format(id=idn))
