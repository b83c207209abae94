"""A fake of the part of GitHub's REST API that watchmgr uses, on loopback, for offline tests.

Issues, pull-request comments and the pull requests of a commit, kept in memory; pages as GitHub
pages (``per_page``, ``page``); a bearer token required; every request recorded. Comments and
issues made through the API belong to `bot` (the workflow token's account).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT = "github-actions[bot]"


@dataclass
class FakeGitHub:
    repository: str = "octo/rules"
    token: str = "test-token"
    bot: str = BOT
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls_of_commit: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: Statuses to answer the next requests with, first first (a fault for each).
    faults: list[int] = field(default_factory=list)
    _next_id: int = 1000
    _server: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------------- test set-up and reading

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v3"

    def environ(self) -> dict[str, str]:
        """The variables a workflow step has (what watchmgr github reads)."""
        return {
            "GITHUB_API_URL": self.url,
            "GITHUB_TOKEN": self.token,
            "GITHUB_REPOSITORY": self.repository,
        }

    def comment(self, pr: int, body: str, user: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        item = {"id": self._next_id, "issue": pr, "body": body, "user": {"login": user or self.bot}}
        item["html_url"] = f"https://github.test/{self.repository}/pull/{pr}#c{self._next_id}"
        self.comments[self._next_id] = item
        return item

    def comments_on(self, pr: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == pr]

    def merged(self, sha: str, pr: int) -> None:
        self.pulls_of_commit.setdefault(sha, []).append(
            {"number": pr, "merged_at": "2026-12-02T10:00:00Z", "merge_commit_sha": sha}
        )

    def open_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.issues.values() if i["state"] == "open"]

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    def __enter__(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, data = fake._handle(
                    self.command, self.path, body, self.headers.get("Authorization")
                )
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PATCH = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # ---------------------------------------------------------------- the API

    def _handle(self, method: str, raw_path: str, body: Any, auth: str | None) -> tuple[int, Any]:
        url = urlsplit(raw_path)
        path, query = url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.requests.append((method, path))
        if self.faults:
            status = self.faults.pop(0)
            return status, {"message": f"fault {status}"}
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}
        prefix = f"/api/v3/repos/{self.repository}"
        if not path.startswith(prefix):
            return 404, {"message": "Not Found"}
        parts = path[len(prefix) :].strip("/").split("/")
        return self._route(method, parts, query, body)

    def _route(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        match method, parts:
            case "GET", ["issues", number, "comments"]:
                return 200, self._page(self.comments_on(int(number)), query)
            case "POST", ["issues", number, "comments"]:
                return 201, self.comment(int(number), body["body"])
            case "PATCH", ["issues", "comments", comment_id]:
                self.comments[int(comment_id)]["body"] = body["body"]
                return 200, self.comments[int(comment_id)]
            case "GET", ["issues"]:
                found = [
                    i
                    for i in self.issues.values()
                    if i["state"] == query.get("state", "open")
                    and ("creator" not in query or i["user"]["login"] == query["creator"])
                ]
                return 200, self._page(found, query)
            case "POST", ["issues"]:
                number = len(self.issues) + 1
                self.issues[number] = {
                    "number": number,
                    "title": body["title"],
                    "body": body["body"],
                    "state": "open",
                    "user": {"login": self.bot},
                    "html_url": f"https://github.test/{self.repository}/issues/{number}",
                }
                return 201, self.issues[number]
            case "PATCH", ["issues", number]:
                self.issues[int(number)].update(body)
                return 200, self.issues[int(number)]
            case "GET", ["commits", sha, "pulls"]:
                return 200, self._page(self.pulls_of_commit.get(sha, []), query)
        return 404, {"message": "Not Found"}

    @staticmethod
    def _page(items: list[Any], query: dict[str, str]) -> list[Any]:
        size = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        return items[(page - 1) * size : page * size]
