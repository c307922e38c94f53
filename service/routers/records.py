"""The record (审查单 / 审批单) as HTML, PDF and docx."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from .. import audit, workflow
from ..deps import CurrentPrincipal, Requires, State
from ..record import collect, render_docx, render_html, render_pdf

router = APIRouter(prefix="/api/v1", tags=["record 审查单"])


@router.get("/submissions/{sub_id}/record.html", response_class=HTMLResponse, summary="审查单 HTML / record as HTML",
            dependencies=[Requires("submission.view")],
            description="一事一审的书面记录：信息名称、摘要、渠道与范围、发现与结论、审查人、审批人、时间、理由。\n\n"
                        "The written record: title, summary, channel and scope, findings and verdicts, reviewer, approver, times, reasons.")
def record_html(sub_id: str, p: CurrentPrincipal, st: State):
    with st.db.read() as s:
        html = render_html(collect(s, workflow.load(s, p, sub_id)))
    return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def _export(sub_id: str, p, st, kind: str, render, media_type: str) -> Response:
    """A printable record as an attachment; the export is on the audit trail."""
    with st.db.read() as s:
        body = render(collect(s, workflow.load(s, p, sub_id)))
    with st.db.write() as s:
        audit.append(s, p.actor, "record.exported", "submission", sub_id, after={"format": kind})
    name = f"审查单-{sub_id}.{kind}"
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"record-{sub_id}.{kind}\"; filename*=UTF-8''{quote(name)}"})


@router.get("/submissions/{sub_id}/record.pdf", summary="审查单 PDF / record as PDF",
            dependencies=[Requires("submission.view")],
            responses={200: {"content": {"application/pdf": {}}}},
            description="同上，PDF 格式（内置 STSong-Light 字体），含每一版的发现与结论、签字与盖章栏。\n\n"
                        "The same as PDF: every version with its findings and verdicts, signature and seal blocks.")
def record_pdf(sub_id: str, p: CurrentPrincipal, st: State):
    return _export(sub_id, p, st, "pdf", render_pdf, "application/pdf")


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get("/submissions/{sub_id}/record.docx", summary="审查单 Word / record as docx",
            dependencies=[Requires("submission.view")],
            responses={200: {"content": {DOCX: {}}}},
            description="同上，Word（docx）格式，内容与 PDF 相同，可打印后签字盖章归档。\n\n"
                        "The same record as a Word document (same content as the PDF), to print, sign and file.")
def record_docx(sub_id: str, p: CurrentPrincipal, st: State):
    return _export(sub_id, p, st, "docx", render_docx, DOCX)
