"""GitHub's REST API for the GitOps workflows: one sticky plan comment per environment, the
reviewed plan of a merged pull request, one drift issue per environment.

The only module that talks to GitHub. It speaks to ``$GITHUB_API_URL`` (so GitHub Enterprise
Server works) with ``$GITHUB_TOKEN``, through urllib3 (which the Elasticsearch client brings),
and needs no third-party action. It never prints: each flow returns what it did, and every
failure is a `GitHubError` of one line. Only GETs and PATCHes are retried: a retried POST could
post a comment twice.

Comments and issues are recognised by the plan marker (`watchmgr.fingerprint`) in their body
and by their author, so a marker pasted into a comment by someone else is never taken for the
plan that was reviewed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from watchmgr.errors import WatchmgrError
from watchmgr.fingerprint import Marker, difference, parse_markers

if TYPE_CHECKING:
    import urllib3

#: The author of comments and issues that GITHUB_TOKEN makes in a workflow.
ACTIONS_BOT = "github-actions[bot]"
DEFAULT_API_URL = "https://api.github.com"
#: Items per page of a listing (GitHub's maximum).
PER_PAGE = 100
#: The title of an environment's drift issue; the marker in its body says which environment.
DRIFT_TITLE = "watchmgr: drift in environment {env}"

#: What each refusal means for a workflow's token.
_STATUS_HINTS = {
    401: "GitHub refused the token; check that GITHUB_TOKEN is set to the workflow's token",
    403: "GitHub refused the request; give the job the permission it needs "
    "(pull-requests: write to comment, issues: write for drift issues, contents: read)",
    404: "not found; check GITHUB_REPOSITORY, the pull request number and the token's access",
}


class GitHubError(WatchmgrError):
    """GitHub refused, failed or could not be reached; or what it holds is not as expected."""


class PlanChangedError(GitHubError):
    """The fresh plan is not the plan reviewed on the pull request; `details` say how."""

    def __init__(self, message: str, details: list[str]) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True, slots=True)
class GitHub:
    """A repository's REST API: `api_url` (no trailing slash), `repository` as owner/name."""

    api_url: str
    repository: str
    token: str
    pool: urllib3.PoolManager

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """The JSON answer to `method` on `path` (under the API URL); a `GitHubError` if not 2xx."""
        import urllib3

        url = f"{self.api_url}{path}"
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "watchmgr",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self.pool.request(
                method,
                url,
                body=None if body is None else json.dumps(body).encode("utf-8"),
                headers=headers,
            )
        except urllib3.exceptions.HTTPError as err:
            raise GitHubError(f"cannot reach the GitHub API at {self.api_url}: {err}") from err
        if response.status >= 300:
            raise GitHubError(f"{method} {path}: {response.status}, {_refusal(response)}")
        try:
            return json.loads(response.data) if response.data else None
        except json.JSONDecodeError as err:
            raise GitHubError(f"{method} {path}: the answer is not JSON: {err.msg}") from err

    def listing(self, path: str, **params: str) -> list[Any]:
        """Every item of a paged listing (pages of 100 until a short one)."""
        items: list[Any] = []
        page = 1
        while True:
            query = urlencode({**params, "per_page": PER_PAGE, "page": page})
            found = self.request("GET", f"{path}?{query}")
            if not isinstance(found, list):
                raise GitHubError(f"GET {path}: expected a list, got {type(found).__name__}")
            items.extend(found)
            if len(found) < PER_PAGE:
                return items
            page += 1

    @property
    def repo_path(self) -> str:
        return f"/repos/{self.repository}"


def _refusal(response: Any) -> str:
    hint = _STATUS_HINTS.get(response.status, "GitHub did not do it")
    try:
        message = json.loads(response.data).get("message")
    except (json.JSONDecodeError, AttributeError):
        message = None
    return f"{hint} (GitHub said: {message})" if isinstance(message, str) else hint


def connect(environ: Mapping[str, str], repository: str | None = None) -> GitHub:
    """The API of `repository` (default ``$GITHUB_REPOSITORY``) as a workflow's variables say."""
    import urllib3

    token = environ.get("GITHUB_TOKEN", "")
    if not token:
        raise GitHubError(
            "GITHUB_TOKEN is not set; give the step `env: GITHUB_TOKEN: ${{ github.token }}`"
        )
    repository = repository or environ.get("GITHUB_REPOSITORY", "")
    owner, _, name = repository.partition("/")
    if not owner or not name or "/" in name:
        raise GitHubError(
            f"the repository must be given as owner/name (--repo or GITHUB_REPOSITORY), "
            f"not {repository!r}"
        )
    api_url = (environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise GitHubError(f"GITHUB_API_URL must be an http(s) URL, not {api_url!r}")
    pool = urllib3.PoolManager(
        retries=urllib3.Retry(
            total=3,
            backoff_factor=0.5,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=frozenset({"GET", "PATCH"}),
            raise_on_status=False,
        ),
        timeout=urllib3.Timeout(connect=10.0, read=30.0),
    )
    return GitHub(api_url, f"{quote(owner)}/{quote(name)}", token, pool)


# ------------------------------------------------------------------------------ plan comments


def only_marker(text: str, where: str) -> Marker:
    """The one plan marker of a single environment's Markdown (`where` names it in errors)."""
    markers = parse_markers(text)
    names = sorted({m.environment for m in markers})
    if len(markers) != 1:
        what = f"the plans of {', '.join(names)}" if markers else "no watchmgr plan marker"
        raise GitHubError(
            f"{where}: holds {what}; post the output of "
            "`watchmgr plan --env ENV --format markdown`, one environment per comment"
        )
    return markers[0]


def _ours(item: Mapping[str, Any], author: str) -> bool:
    user = item.get("user")
    return isinstance(user, Mapping) and user.get("login") == author


def _plan_comments(gh: GitHub, pr: int, environment: str, author: str) -> list[Any]:
    comments = gh.listing(f"{gh.repo_path}/issues/{pr}/comments")
    return [
        c
        for c in comments
        if _ours(c, author)
        and any(m.environment == environment for m in parse_markers(str(c.get("body") or "")))
    ]


@dataclass(frozen=True, slots=True)
class Posted:
    """What `upsert_comment` or `sync_drift_issue` did: `action` and the GitHub URL (if any)."""

    action: str  # "created" | "updated" | "closed" | "unchanged"
    url: str | None


def upsert_comment(gh: GitHub, pr: int, text: str, where: str, author: str) -> Posted:
    """Post `text` (one environment's plan) on pull request `pr`, editing the environment's
    comment in place when there is one, so each environment keeps one sticky comment."""
    marker = only_marker(text, where)
    existing = _plan_comments(gh, pr, marker.environment, author)
    if existing:
        comment_id = int(existing[0]["id"])
        answer = gh.request("PATCH", f"{gh.repo_path}/issues/comments/{comment_id}", {"body": text})
        return Posted("updated", _url(answer))
    answer = gh.request("POST", f"{gh.repo_path}/issues/{pr}/comments", {"body": text})
    return Posted("created", _url(answer))


def _url(answer: Any) -> str | None:
    url = answer.get("html_url") if isinstance(answer, Mapping) else None
    return url if isinstance(url, str) else None


def merged_pull_request(gh: GitHub, sha: str) -> int:
    """The number of the pull request that merged commit `sha` into its base."""
    pulls = gh.listing(f"{gh.repo_path}/commits/{quote(sha)}/pulls")
    merged = [
        p
        for p in pulls
        if isinstance(p, Mapping) and p.get("merged_at") and p.get("merge_commit_sha") == sha
    ]
    if not merged:
        raise GitHubError(
            f"commit {sha} was not merged through a pull request, so no plan was reviewed for "
            "it; merge changes through pull requests (branch protection), or apply with "
            "workflow_dispatch"
        )
    return int(merged[0]["number"])


def reviewed_marker(gh: GitHub, pr: int, environment: str, author: str) -> Marker:
    """The plan marker of `environment` in pull request `pr`'s sticky comment."""
    comments = _plan_comments(gh, pr, environment, author)
    if not comments:
        raise GitHubError(
            f"pull request #{pr} has no plan comment for environment {environment!r} by "
            f"{author}, so no plan was reviewed for it; run the plan workflow on it"
        )
    body = str(comments[0].get("body") or "")
    return next(m for m in parse_markers(body) if m.environment == environment)


def check_reviewed(reviewed: Marker, fresh: Marker, pr: int) -> None:
    """Nothing when `fresh` is the plan reviewed on `pr`; else `PlanChangedError` with the
    difference, one line per watch."""
    if reviewed.environment != fresh.environment:
        raise GitHubError(
            f"the plan is for environment {fresh.environment!r}, the reviewed one for "
            f"{reviewed.environment!r}"
        )
    lines = difference(reviewed, fresh)
    if lines:
        raise PlanChangedError(
            f"plan changed since review: the plan for environment {fresh.environment!r} is "
            f"not the one reviewed on pull request #{pr}, so nothing is applied; plan the pull "
            "request again, or undo what changed on the cluster",
            lines,
        )


# ------------------------------------------------------------------------------ drift issues


def _drift_issues(gh: GitHub, environment: str, author: str) -> list[Any]:
    title = DRIFT_TITLE.format(env=environment)
    issues = gh.listing(f"{gh.repo_path}/issues", state="open", creator=author)
    return [
        i
        for i in issues
        if "pull_request" not in i
        and i.get("title") == title
        and any(m.environment == environment for m in parse_markers(str(i.get("body") or "")))
    ]


def sync_drift_issue(gh: GitHub, text: str, where: str, drifted: bool, author: str) -> Posted:
    """Keep one open issue per environment while it drifts: open it, or update it with the
    latest plan (`text`, its Markdown); when it no longer drifts, close it with a comment."""
    marker = only_marker(text, where)
    issues = _drift_issues(gh, marker.environment, author)
    if drifted:
        if issues:
            number = int(issues[0]["number"])
            answer = gh.request("PATCH", f"{gh.repo_path}/issues/{number}", {"body": text})
            return Posted("updated", _url(answer))
        title = DRIFT_TITLE.format(env=marker.environment)
        answer = gh.request("POST", f"{gh.repo_path}/issues", {"title": title, "body": text})
        return Posted("created", _url(answer))
    if not issues:
        return Posted("unchanged", None)
    number = int(issues[0]["number"])
    gh.request(
        "POST",
        f"{gh.repo_path}/issues/{number}/comments",
        {"body": f"The cluster of environment `{marker.environment}` matches the rules again."},
    )
    answer = gh.request(
        "PATCH",
        f"{gh.repo_path}/issues/{number}",
        {"state": "closed", "state_reason": "completed"},
    )
    return Posted("closed", _url(answer))
