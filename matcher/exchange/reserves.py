"""Proof of reserves as the exchange publishes it: the root of the latest Merkle sum tree (public) and each user's
inclusion proof (to that user only: an API-key signature or an EIP-712 Read), from the folder `bourse por build
--out <exchange data dir>/por` writes. The trading page verifies a proof against the root in the browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from .errors import NOT_FOUND, ApiError
from .params import params
from .responses import json_response

NOT_PUBLISHED = "No proof of reserves is published here (bourse por build --out <exchange data dir>/por)."


class ReservesHandlers:
    def __init__(self, folder: Path, private: Any) -> None:
        self.folder = folder
        self.private = private  # PrivateHandlers: who is asking

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/bourse/v1/por/root", self.root)
        app.router.add_get("/bourse/v1/por/proof", self.proof)

    async def root(self, request: web.Request) -> web.Response:
        return json_response(self._read(self.folder / "root.json", NOT_PUBLISHED))

    async def proof(self, request: web.Request) -> web.Response:
        query = await params(request)
        principal = await self.private.principal(request, query)
        account = principal.account
        for name in (account, account.lower()):
            path = self.folder / "proofs" / f"{name}.json"
            if path.is_file():
                return json_response(self._read(path, NOT_PUBLISHED))
        if not (self.folder / "root.json").is_file():
            raise ApiError(NOT_FOUND, NOT_PUBLISHED, status=404)
        raise ApiError(NOT_FOUND, f"The published tree has no proof for {account} (it held nothing when the tree "
                                  f"was built).", status=404)

    @staticmethod
    def _read(path: Path, missing: str) -> dict[str, Any]:
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise ApiError(NOT_FOUND, missing, status=404) from None
        except (OSError, ValueError):
            raise ApiError(NOT_FOUND, f"The published file {path.name} cannot be read.", status=404) from None
        if not isinstance(document, dict):
            raise ApiError(NOT_FOUND, f"The published file {path.name} is not a JSON object.", status=404)
        return document
