"""The record (审查单) as HTML and PDF."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from .. import audit, workflow
from ..deps import CurrentPrincipal, Requires, State
from ..record import collect, render_html, render_pdf

router = APIRouter(prefix="/api/v1", tags=["record 审查单"])


@router.get("/submissions/{sub_id}/record.html", response_class=HTMLResponse, summary="审查单 HTML / record as HTML",
            dependencies=[Requires("submission.view")],
            description="一事一审的书面记录：信息名称、摘要、渠道与范围、发现与结论、审查人、审批人、时间、理由。\n\n"
                        "The written record: title, summary, channel and scope, findings and verdicts, reviewer, approver, times, reasons.")
def record_html(sub_id: str, p: CurrentPrincipal, st: State):
    with st.db.read() as s:
        html = render_html(collect(s, workflow.load(s, p, sub_id)))
    return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


@router.get("/submissions/{sub_id}/record.pdf", summary="审查单 PDF / record as PDF",
            dependencies=[Requires("submission.view")],
            responses={200: {"content": {"application/pdf": {}}}},
            description="同上，PDF 格式（内置 STSong-Light 字体）。\n\nThe same as PDF.")
def record_pdf(sub_id: str, p: CurrentPrincipal, st: State):
    with st.db.read() as s:
        pdf = render_pdf(collect(s, workflow.load(s, p, sub_id)))
    with st.db.write() as s:
        audit.append(s, p.actor, "record.exported", "submission", sub_id, after={"format": "pdf"})
    name = f"审查单-{sub_id}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=\"record-{sub_id}.pdf\"; filename*=UTF-8''{quote(name)}"})
