"""POST /scan (author pre-check / integrators), jobs and stored reports."""
from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from .. import audit, remembered, workflow
from ..deps import CurrentPrincipal, Principal, Requires, State
from ..errors import err
from ..intake import Draft, read_draft
from ..models import Job, ReportRow
from ..queue import check_queue, enqueue_draft
from ..reports import PreparedReport, insert_report, load_report, prepare_report, report_audit_summary, scan_draft
from ..schemas import JobOut, ReportOut, errors
from ..state import ServiceState

router = APIRouter(prefix="/api/v1", tags=["scan 扫描"])

UPLOAD_BODY = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "description": "待审查文本 / draft text"},
            "filename": {"type": "string", "description": "显示名称 / display name"}}}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "一个文件（docx/pdf/txt/html…，按内容识别类型）/ one file, type sniffed by content"}}}},
    }}}


def scan_sync(st: ServiceState, p: Principal, d: Draft, path: str) -> tuple[object, PreparedReport]:
    report = scan_draft(st, d.data, d.filename, text_input=d.from_json, sync=True)
    report = remembered.apply_entries(st, report, remembered.Scope(submitter=p.username))
    prep, summary = prepare_report(st, report, p.user_id), report_audit_summary(report)

    def keep(s) -> str:
        row = insert_report(s, prep)
        audit.append(s, p.actor, f"{path}.scanned", "report", row.id, after=summary)
        return row.id
    # concurrent scans' rows share one commit (service.db.write_grouped); answered once committed
    st.db.write_grouped(keep)
    st.metrics.inc("baomi_scans_total", decision=report.decision, path=path)
    return report, prep


def job_status(st: ServiceState, job: Job, request: Request) -> dict:
    out = {"job_id": job.id, "status": job.status, "progress": job.progress,
           "pages_done": job.pages_done, "pages_total": job.pages_total,
           "attempts": job.attempts, "error_code": job.error_code or None,
           "status_url": str(request.url_for("get_job", job_id=job.id)),
           "report_id": job.report_id,
           "report_url": str(request.url_for("get_report", report_id=job.report_id)) if job.report_id else None}
    if job.status == "queued":
        with st.db.read() as s:
            out["queue_position"] = int(s.execute(select(func.count()).select_from(Job).where(
                Job.status == "queued", Job.created_at <= job.created_at)).scalar_one())
    return out


@router.post("/scan", summary="扫描草稿 / scan a draft", openapi_extra=UPLOAD_BODY,
             responses={200: {"model": ReportOut, "description": "报告（JSON 报告契约）/ the report contract"},
                        202: {"model": JobOut, "description": "已排队的任务 / queued job with status_url"},
                        **errors(400, 401, 403, 408, 413, 415, 422, 429, 503, 507)},
             dependencies=[Requires("scan")],
             description="JSON `{\"text\": ...}` 或 multipart 单个文件。小输入同步返回报告；大输入（或 `async=true`）返回 202 与任务地址，可查询进度。\n\n"
                         "Text (JSON) or one file (multipart). Small inputs answer synchronously with the report; large ones "
                         "(or `async=true`) return 202 and a job URL with progress.")
async def scan(request: Request, p: CurrentPrincipal, st: State,
               async_: bool = Query(False, alias="async", description="强制异步任务 / force a job"),
               segments: bool = Query(False, description="返回抽取的文本段（用于高亮）/ include extracted segments")):
    # a JSON body no longer than sync_max_chars bytes is answered synchronously (its text has no
    # more characters, nor UTF-8 bytes, than the body): it never reaches the job queue, so the
    # queue's bound (two COUNT queries) is not checked for it
    declared = request.headers.get("content-length", "")
    sure_sync = (not async_ and declared.isdigit() and int(declared) <= st.settings.sync_max_chars
                 and request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json")
    if not sure_sync:
        await run_in_threadpool(check_queue, st, p)
    d = await read_draft(request)
    is_text = d.from_json
    small = (len(d.data) <= st.settings.sync_max_chars * 3 and
             len(d.data.decode("utf-8", "replace")) <= st.settings.sync_max_chars) if is_text \
        else len(d.data) <= st.settings.sync_max_file_bytes
    if small and not async_:
        _report, prep = await run_in_threadpool(scan_sync, st, p, d, "scan")
        out = prep.answer(with_segments=segments)      # the stored body: no second to_dict
        # the report contract is plain JSON already: rendered as it is, not walked by FastAPI's
        # jsonable_encoder (~90,000 calls for a 5,000-character draft with ~50 findings)
        return JSONResponse(out)
    if sure_sync:        # not expected (see above); the bound holds all the same
        await run_in_threadpool(check_queue, st, p)
    job_id = await run_in_threadpool(enqueue_draft, st, p, d)
    with st.db.read() as s:
        job = s.get(Job, job_id)
        body = job_status(st, job, request)
    return JSONResponse(body, status_code=202, headers={"Location": body["status_url"]})


def _own_or_staff(p: Principal, owner_id: int | None) -> None:
    if not workflow.visible(p, owner_id):
        raise err(403, "not_owner", "只能查看本人提交的内容。")


@router.get("/jobs/{job_id}", name="get_job", summary="任务状态 / job status", dependencies=[Requires("job.view")],
            responses={200: {"model": JobOut}, **errors(401, 403, 404)},
            description="状态 queued/running/done/failed、进度、排队位置、报告地址。\n\nStatus, progress, queue position, report URL.")
def get_job(job_id: str, request: Request, p: CurrentPrincipal, st: State):
    with st.db.read() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise err(404, "job_not_found", "任务不存在。")
        _own_or_staff(p, job.user_id)
        return job_status(st, job, request)


@router.get("/reports/{report_id}", name="get_report", summary="报告 / report", dependencies=[Requires("report.view")],
            responses={200: {"model": ReportOut}, **errors(401, 403, 404)},
            description="报告契约 JSON；`segments=true` 附带抽取文本（用于高亮）。保留期过后仅余摘要。\n\n"
                        "The report contract; `segments=true` adds the extracted text. After the retention period only a summary remains.")
def get_report(report_id: str, p: CurrentPrincipal, st: State, segments: bool = False):
    with st.db.read() as s:
        row = s.get(ReportRow, report_id)
        if row is None:
            raise err(404, "report_not_found", "报告不存在。")
        _own_or_staff(p, row.created_by)
        out = load_report(st, row, with_segments=segments)
    if segments:      # who read the draft text is on record
        with st.db.write() as s:
            audit.append(s, p.actor, "report.text_viewed", "report", report_id)
    return out
