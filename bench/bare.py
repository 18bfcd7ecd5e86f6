"""The baseline: a bare Starlette endpoint returning fixed bytes on the UPS tracking path."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def make_app(body: bytes) -> Starlette:
    """An app that answers every UPS details request with ``body``."""

    async def details(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/api/track/v1/details/{inquiryNumber}", details)])


if __name__ == "__main__":
    port, body_file = int(sys.argv[1]), Path(sys.argv[2])
    uvicorn.run(make_app(body_file.read_bytes()), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)  # fmt: skip
