"""Static web pages shipped inside the package: the block explorer (served by `bourse node`) and the trading page
(served by the exchange) share what is here - the message catalogues (English, Simplified Chinese), the i18n and
formatting modules, the JSON-RPC client and the base style.

`StaticSite` answers GET requests for a page's files from folders mounted under one URL prefix, with the right
content type, an ETag (a 304 for a matching If-None-Match) and caching headers: HTML is revalidated on every load,
other assets may be reused for a minute. Nothing is fetched from anywhere else, so the pages work offline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
                 ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8"}
SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
                    ("X-Frame-Options", "DENY"))


@dataclass(frozen=True)
class Page:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class StaticSite:
    """The files of one page under `prefix` (e.g. "/explorer/"): `mounts` maps a sub-path ("" for the page's own
    folder, "common/" for the shared files) to a folder."""

    def __init__(self, prefix: str, mounts: dict[str, Path]) -> None:
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.mounts = sorted(((sub, folder.resolve()) for sub, folder in mounts.items()),
                             key=lambda item: -len(item[0]))
        self._cache: dict[Path, tuple[bytes, str]] = {}

    def handles(self, target: str) -> bool:
        path = target.split("?", 1)[0]
        return path == self.prefix.rstrip("/") or path.startswith(self.prefix)

    def get(self, target: str, if_none_match: str | None = None) -> Page:
        path = target.split("?", 1)[0].split("#", 1)[0]
        if path == self.prefix.rstrip("/"):
            return Page(301, b"", (("Location", self.prefix),))
        relative = path[len(self.prefix):] or "index.html"
        found = self._find(relative)
        if found is None:
            return Page(404, b"not found", (("Content-Type", "text/plain; charset=utf-8"),) + SECURITY_HEADERS)
        body, etag = self._read(found)
        cache = "no-cache" if found.suffix == ".html" else "public, max-age=60"
        headers = (("Content-Type", CONTENT_TYPES.get(found.suffix, "application/octet-stream")), ("ETag", etag),
                   ("Cache-Control", cache)) + SECURITY_HEADERS
        if if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(",")):
            return Page(304, b"", headers)
        return Page(200, body, headers)

    def _find(self, relative: str) -> Path | None:
        if "\\" in relative or any(part in ("", ".", "..") for part in relative.split("/")):
            return None
        for sub, folder in self.mounts:
            if relative.startswith(sub):
                candidate = (folder / relative[len(sub):]).resolve()
                if candidate.is_relative_to(folder) and candidate.is_file() and candidate.suffix in CONTENT_TYPES:
                    return candidate
        return None

    def _read(self, path: Path) -> tuple[bytes, str]:
        cached = self._cache.get(path)
        if cached is None:
            body = path.read_bytes()
            cached = self._cache[path] = (body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
        return cached


__all__ = ["SHARED", "StaticSite", "Page"]
