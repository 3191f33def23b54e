"""The upload API for units' own systems: the portal's doors, in JSON.

- `POST /api/v1/submissions`: multipart fields `year` and `file`, the unit's
  access token as `Authorization: Bearer …`. The file goes through exactly
  what the upload page does (`submit.receive`: archive, the per-file check,
  the inbox, the rebuild), and the answer carries the same messages. A file
  that would replace the accepted version with mostly empty tables is answered
  409 until it is sent again with `confirm=1`.
- `GET /api/v1/submissions?year=Y`: the unit's versions for the year.
- `GET /api/v1/status?year=Y`: where the unit stands, and when its figures
  entered the district report.
- `GET /api/v1/openapi.json`: this API's OpenAPI 3.0 document.

Times are ISO 8601 in Beijing time (+08:00), as the office and units read them.

No cookies, so no CSRF: a request is authorised by its bearer token alone,
which the portal stores only as a hash. Office tokens are refused: the API
speaks for one unit. Errors are JSON too ({"error": "…"}), see Portal.error.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline.ingest.guards import MAX_FILE_BYTES
from pipeline.portal import status
from pipeline.portal.store import Token, Upload
from pipeline.portal.submit import Unconfirmed, receive
from pipeline.render.times import beijing_iso
from schemas.messages import Message

PREFIX = "/api/v1"
SUBMISSIONS = f"{PREFIX}/submissions"
YEAR = re.compile(r"[0-9]{4}")


def error(code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": detail}, status_code=code, headers=headers)


def _message(d: dict) -> dict:
    return {**d, "display": Message.from_dict(d).render()}


def upload_json(upload: Upload, *, full: bool) -> dict:
    out = {
        "unit": upload.unit,
        "year": upload.year,
        "version": upload.version,
        "file_name": upload.original_name,
        "stored_name": upload.stored_name,
        "sha256": upload.sha256,
        "size": upload.size,
        "received_at": beijing_iso(upload.received_at),
        "outcome": upload.outcome,
        "outcome_text": status.OUTCOME_TEXT[upload.outcome],
        "errors": upload.errors,
        "warnings": upload.warnings,
    }
    if full:
        out["messages"] = [_message(m) for m in upload.messages]
    return out


class Api:
    def __init__(self, portal):
        self.portal = portal

    def token(self, request: Request) -> Token:
        header = request.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise HTTPException(401, "缺少访问令牌：请在请求头中加上 Authorization: Bearer <令牌>。")
        token = self.portal.store.authenticate(secret.strip())
        if token is None:
            raise HTTPException(401, "令牌无效或已停用。请向政务公开办索取新令牌。")
        if token.role != "unit":
            raise HTTPException(403, "接口只接受单位令牌；政务公开办请使用网页。")
        return token

    def year(self, token: Token, raw) -> int:
        if not isinstance(raw, str) or not YEAR.fullmatch(raw.strip()):
            raise HTTPException(422, "year 应为四位数字年度，如 2025。")
        year = int(raw.strip())
        if year not in self.portal.years_for_unit(token.unit):
            raise HTTPException(404, f"本单位没有 {year} 年度的报送任务。")
        return year

    async def submit(self, request: Request) -> Response:
        token = await run_in_threadpool(self.token, request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise HTTPException(415, "请用 multipart/form-data 提交，字段为 year 和 file。")
        try:
            form = await request.form(max_files=1, max_fields=3)
        except HTTPException:
            raise
        except Exception as exc:  # a malformed multipart body
            raise HTTPException(400, "请求格式不正确：无法解析 multipart 表单。") from exc
        try:
            year = self.year(token, form.get("year"))
            file = form.get("file")
            if not isinstance(file, UploadFile) or not file.filename:
                raise HTTPException(422, "缺少文件：请在 file 字段中上传报送文件。")
            data = await file.read(MAX_FILE_BYTES + 1)
            name = file.filename
            confirmed = form.get("confirm") == "1"
        finally:
            await form.close()
        portal = self.portal
        upload = await run_in_threadpool(
            receive,
            portal.home,
            portal.store,
            token.unit,
            year,
            name,
            data,
            portal.clock(),
            portal.validator,
            portal.rebuild_request,
            confirmed,
        )
        if isinstance(upload, Unconfirmed):
            return JSONResponse(
                {
                    "error": upload.text,
                    "confirm_required": True,
                    "replaces_version": upload.replaces.version,
                    "filled_cells": upload.filled,
                    "filled_cells_before": upload.filled_before,
                    "blank_tables": upload.blank_titles,
                },
                status_code=409,
            )
        body = upload_json(upload, full=True)
        body["rebuild"] = "queued" if portal.worker is not None and upload.outcome == "accepted" else "off"
        body["status_url"] = f"{PREFIX}/status?year={year}"
        return JSONResponse(body, status_code=201)

    async def history(self, request: Request) -> Response:
        token = await run_in_threadpool(self.token, request)
        year = self.year(token, request.query_params.get("year"))
        uploads = await run_in_threadpool(self.portal.store.uploads, year=year, unit=token.unit, light=True)
        return JSONResponse(
            {"unit": token.unit, "year": year, "versions": [upload_json(u, full=False) for u in uploads]}
        )

    async def status(self, request: Request) -> Response:
        token = await run_in_threadpool(self.token, request)
        year = self.year(token, request.query_params.get("year"))
        body = await run_in_threadpool(self.portal.status_json, token.unit, year)
        body["in_report_at"] = beijing_iso(body["in_report_at"])
        return JSONResponse(body)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(OPENAPI)


def routes(portal) -> list[Route]:
    api = Api(portal)
    return [
        Route(SUBMISSIONS, api.submit, methods=["POST"]),
        Route(SUBMISSIONS, api.history, methods=["GET"]),
        Route(f"{PREFIX}/status", api.status, methods=["GET"]),
        Route(f"{PREFIX}/openapi.json", api.openapi, methods=["GET"]),
    ]


# --- the OpenAPI document ------------------------------------------------------
_ERROR = {"$ref": "#/components/responses/Error"}
_YEAR_PARAM = {
    "name": "year",
    "in": "query",
    "required": True,
    "description": "年度，四位数字",
    "schema": {"type": "string", "pattern": "^[0-9]{4}$"},
}
_MESSAGE = {
    "type": "object",
    "required": ["severity", "rule", "unit", "file", "text", "display"],
    "properties": {
        "severity": {"type": "string", "enum": ["ERROR", "WARNING"]},
        "rule": {"type": "string", "description": "规则编号，如 F7、N1"},
        "unit": {"type": "string"},
        "unit_label": {"type": "string"},
        "file": {"type": "string"},
        "sheet": {"type": "string"},
        "location": {"type": "string", "description": "单元格，如 C8；CSV 为“第 12 行”"},
        "text": {"type": "string"},
        "display": {"type": "string", "description": "与 nianbao check 和网页相同的一行说明"},
    },
}
_VERSION_PROPS = {
    "unit": {"type": "string"},
    "year": {"type": "integer"},
    "version": {"type": "integer"},
    "file_name": {"type": "string"},
    "stored_name": {"type": "string"},
    "sha256": {"type": "string"},
    "size": {"type": "integer"},
    "received_at": {"type": "string", "format": "date-time", "description": "北京时间，带 +08:00"},
    "outcome": {"type": "string", "enum": ["accepted", "rejected"]},
    "outcome_text": {"type": "string"},
    "errors": {"type": "integer"},
    "warnings": {"type": "integer"},
}
_VERSION_REQUIRED = ["unit", "year", "version", "file_name", "received_at", "outcome", "errors", "warnings"]

OPENAPI = {
    "openapi": "3.0.3",
    "info": {
        "title": "nianbao 报送接口",
        "version": "1.0.0",
        "description": "单位业务系统向政务公开办报送年度报告文件的接口。令牌由政务公开办用 "
        "`nianbao tokens issue --unit <单位代码>` 发放，放在 Authorization: Bearer 请求头中。",
    },
    "servers": [{"url": "/"}],
    "security": [{"unitToken": []}],
    "paths": {
        SUBMISSIONS: {
            "post": {
                "summary": "报送一个文件（与网页上传相同的检查）",
                "operationId": "submit",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["year", "file"],
                                "additionalProperties": False,
                                "properties": {
                                    "year": {"type": "string", "pattern": "^[0-9]{4}$"},
                                    "file": {"type": "string", "format": "binary"},
                                    "confirm": {
                                        "type": "string",
                                        "enum": ["1"],
                                        "description": "确认用表格大多为空的文件替换已采用的版本（见 409）",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "已收到并检查；outcome 为 accepted（采用）或 rejected（退回）",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": [*_VERSION_REQUIRED, "messages", "rebuild", "status_url"],
                                    "properties": {
                                        **_VERSION_PROPS,
                                        "messages": {"type": "array", "items": _MESSAGE},
                                        "rebuild": {"type": "string", "enum": ["queued", "off"]},
                                        "status_url": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "409": {
                        "description": "文件通过检查，但填写的表格单元格不到在用版本的一半：未采用，"
                        "error 说明情况；确认替换请加字段 confirm=1 重新提交",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["error", "confirm_required", "replaces_version"],
                                    "properties": {
                                        "error": {"type": "string"},
                                        "confirm_required": {"type": "boolean"},
                                        "replaces_version": {"type": "integer"},
                                        "filled_cells": {"type": "integer"},
                                        "filled_cells_before": {"type": "integer"},
                                        "blank_tables": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            }
                        },
                    },
                    **{code: _ERROR for code in ("400", "401", "403", "404", "413", "415", "422", "503")},
                },
            },
            "get": {
                "summary": "本单位某年度的全部版本",
                "operationId": "history",
                "parameters": [_YEAR_PARAM],
                "responses": {
                    "200": {
                        "description": "版本列表，最早的在前",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["unit", "year", "versions"],
                                    "properties": {
                                        "unit": {"type": "string"},
                                        "year": {"type": "integer"},
                                        "versions": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "required": _VERSION_REQUIRED,
                                                "properties": _VERSION_PROPS,
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    **{code: _ERROR for code in ("400", "401", "403", "404", "422", "503")},
                },
            },
        },
        f"{PREFIX}/status": {
            "get": {
                "summary": "本单位某年度的报送状态，以及数据何时计入全区报告",
                "operationId": "status",
                "parameters": [_YEAR_PARAM],
                "responses": {
                    "200": {
                        "description": "报送状态",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["unit", "year", "state", "state_text", "late", "overdue"],
                                    "properties": {
                                        "unit": {"type": "string"},
                                        "year": {"type": "integer"},
                                        "state": {
                                            "type": "string",
                                            "enum": ["accepted", "warnings", "rejected", "missing"],
                                        },
                                        "state_text": {"type": "string"},
                                        "late": {"type": "boolean"},
                                        "overdue": {"type": "boolean"},
                                        "deadline": {"type": "string"},
                                        "in_use_version": {"type": "integer", "nullable": True},
                                        "in_report_at": {
                                            "type": "string",
                                            "description": "在用版本的数据计入全区报告的时间（北京时间，带 +08:00）；"
                                            "尚未计入时为空",
                                        },
                                        "rebuilding": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    **{code: _ERROR for code in ("400", "401", "403", "404", "422", "503")},
                },
            }
        },
        f"{PREFIX}/openapi.json": {
            "get": {
                "summary": "本文档",
                "operationId": "openapi",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 文档", "content": {"application/json": {}}}},
            }
        },
    },
    "components": {
        "securitySchemes": {"unitToken": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "Error": {
                "description": "错误，error 为中文说明",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["error"],
                            "properties": {"error": {"type": "string"}},
                        }
                    }
                },
            }
        },
    },
}
