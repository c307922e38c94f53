"""One error shape for every failure: {"error": {"code": "...", "message": "中文说明"}}.

422 responses never echo the input (FastAPI's default puts the offending value in `input`);
unexpected exceptions are logged by type only (messages can carry document text).
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("baomi.service")


class APIError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, **extra):
        super().__init__(code)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra


def err(status: int, code: str, message: str, headers: dict | None = None, **extra) -> APIError:
    return APIError(status, code, message, headers, **extra)


def body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


_HTTP_CODES = {
    400: ("bad_request", "请求格式不正确。"),
    401: ("auth_required", "需要登录或提供 API 密钥。"),
    403: ("forbidden", "无权执行此操作。"),
    404: ("not_found", "资源不存在。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    408: ("request_timeout", "请求体接收超时。"),
    413: ("body_too_large", "请求体超过大小上限。"),
    415: ("unsupported_type", "不支持的内容类型。"),
}


def install(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_req: Request, exc: APIError):
        return JSONResponse(body(exc.code, exc.message, **exc.extra), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError):
        fields = [{"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse(body("validation_error", "请求参数不符合要求。", fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        code, msg = _HTTP_CODES.get(exc.status_code, ("http_error", "请求失败。"))
        if exc.status_code == 400 and isinstance(exc.detail, str):
            if "Too many files" in exc.detail or "Too many fields" in exc.detail:
                code, msg = "too_many_parts", "上传的文件或字段过多，每次只能上传一个文件。"
            elif "maximum size" in exc.detail:
                code, msg = "part_too_large", "表单字段超过大小上限。"
            else:
                code, msg = "bad_multipart", "上传内容格式不正确。"
        return JSONResponse(body(code, msg), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    from .storage import StorageFull, disk_full

    @app.exception_handler(StorageFull)
    async def _full(_req: Request, exc: StorageFull):
        log.error("storage full: upload refused")
        return JSONResponse(body("storage_full", "存储空间不足，暂时无法接收文件，请稍后重试。"), status_code=507,
                            headers={"Retry-After": "60"})

    async def _unexpected(req: Request, exc: Exception):
        if disk_full(exc):     # the database or a work file ran out of space: temporary, say so
            log.error("storage full: request refused type=%s path=%s", type(exc).__name__, req.url.path)
            return JSONResponse(body("storage_full", "存储空间不足，暂时无法处理，请稍后重试。"), status_code=507,
                                headers={"Retry-After": "60"})
        log.error("unhandled error type=%s path=%s", type(exc).__name__, req.url.path)
        return JSONResponse(body("internal_error", "服务内部错误，请稍后重试。"), status_code=500)

    # The errors a full disk raises (OSError from a work file, the database driver's error through
    # SQLAlchemy) are answered where routes' errors are handled: a handler for Exception itself runs
    # in Starlette's outermost middleware, which re-raises after answering, and the server then
    # closes the connection, so a client's next request on it would be reset.
    from sqlalchemy.exc import DBAPIError
    for kind in (OSError, DBAPIError, Exception):
        app.add_exception_handler(kind, _unexpected)
