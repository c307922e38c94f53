"""The reviewer's workbench: server-rendered pages on top of the service.

`mount(app)` is called by service.main.create_app. Pages live at the root (/login, /me, /new,
/s/{id}, /queue, /admin..., /site for 保密检查), static assets under /static (no CDN, no build step)."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import admin, archive, site, views
from .common import HERE


def mount(app: FastAPI) -> None:
    app.include_router(views.router)
    app.include_router(admin.router)
    app.include_router(archive.router)
    app.include_router(site.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
