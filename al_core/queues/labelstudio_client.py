"""A small HTTP client for Label Studio's REST API: retries with back-off, one-line errors.

Only what the queue needs (``httpx``, which Prefect already depends on; no ``label-studio-sdk``,
whose ~258 MB of dependencies would force numpy below the project's pin).

**Tokens.** Label Studio 1.23 has two kinds: the legacy token (40 hex characters, sent as
``Authorization: Token ...``; the server needs ``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true``)
and personal access tokens (a JWT refresh token, exchanged at ``/api/token/refresh/`` for a
short-lived access token sent as ``Authorization: Bearer ...``). Both work here. The token is
read from ``token_source`` when first needed and is never put in a message, a URL or a log.

**Failures.** A connection that cannot be made, a timeout, HTTP 429 and HTTP 5xx are retried
``retries`` times, waiting ``backoff_s`` x 2^attempt (at most 30 s) in between; then
:class:`LabelStudioUnavailable` says so in one line. Other 4xx answers raise
:class:`LabelStudioError` at once with the server's short reason. A request that may have
reached the server (a read timeout, a dropped connection) is retried only when it is
``idempotent``; the queue makes its non-idempotent import safe by checking what the server
already holds before importing again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from al_core.errors import AlflowError

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0


class LabelStudioError(AlflowError):
    """Label Studio answered, but refused the request (bad token, missing project, ...)."""


class LabelStudioUnavailable(LabelStudioError):
    """Label Studio could not be reached or kept failing after every retry."""


def _looks_like_jwt(token: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and all(parts)


class LabelStudioClient:
    """JSON requests to one Label Studio server (``url`` without ``/api``)."""

    def __init__(
        self,
        url: str,
        token_source: Callable[[], str],
        *,
        timeout_s: float = 30.0,
        retries: int = 4,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._token_source = token_source
        self._auth: str | None = None
        self._http: Any = None

    def __repr__(self) -> str:  # never shows the token
        return f"LabelStudioClient({self.url!r})"

    # -- plumbing -------------------------------------------------------------------------
    def _client(self) -> Any:
        if self._http is None:
            import httpx

            self._http = httpx.Client(base_url=self.url, timeout=self.timeout_s)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _authorization(self) -> str:
        if self._auth is None:
            token = self._token_source().strip()
            if _looks_like_jwt(token):
                access = self._send(
                    "POST", "/api/token/refresh/", json_body={"refresh": token}, auth=False
                )
                if not isinstance(access, dict) or not access.get("access"):
                    raise LabelStudioError(
                        f"Label Studio at {self.url} did not exchange the personal access "
                        "token for an access token"
                    )
                self._auth = f"Bearer {access['access']}"
            else:
                self._auth = f"Token {token}"
        return self._auth

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        allow_404: bool = False,
    ) -> Any:
        """Send one request; return the decoded JSON (None for an empty body or an allowed 404).

        ``idempotent`` defaults to True for GET, PUT, PATCH and DELETE.
        """
        return self._send(
            method,
            path,
            params=params,
            json_body=json_body,
            idempotent=idempotent,
            allow_404=allow_404,
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        allow_404: bool = False,
        auth: bool = True,
    ) -> Any:
        import httpx

        if idempotent is None:
            idempotent = method.upper() in {"GET", "PUT", "PATCH", "DELETE", "HEAD"}
        where = f"{method.upper()} {path}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(min(self.backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S))
            headers = {"Authorization": self._authorization()} if auth else {}
            try:
                response = self._client().request(
                    method, path, params=params, json=json_body, headers=headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                last = _reason(exc)  # never sent: always safe to retry
                continue
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                last = _reason(exc)
                if idempotent:
                    continue
                raise LabelStudioUnavailable(
                    f"Label Studio at {self.url}: {where} got no answer ({last}); it may or "
                    "may not have been applied"
                ) from None
            except httpx.HTTPError as exc:
                raise LabelStudioUnavailable(
                    f"Label Studio at {self.url}: {where} failed ({_reason(exc)})"
                ) from None
            status = response.status_code
            if status in RETRY_STATUS:
                last = f"HTTP {status}"
                if idempotent or status in (429, 503):
                    continue
                raise LabelStudioUnavailable(
                    f"Label Studio at {self.url}: {where} failed with HTTP {status}"
                )
            if status == 404 and allow_404:
                return None
            if status in (401, 403):
                raise LabelStudioError(
                    f"Label Studio at {self.url} refused the API token for {where} "
                    f"(HTTP {status}: {_detail(response)}); check the token (for a legacy "
                    "token the server needs LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true)"
                )
            if status >= 400:
                raise LabelStudioError(
                    f"Label Studio at {self.url}: {where} failed with HTTP {status}: "
                    f"{_detail(response)}"
                )
            if not response.content:
                return None
            try:
                return response.json()
            except json.JSONDecodeError:
                raise LabelStudioError(
                    f"Label Studio at {self.url}: {where} answered HTTP {status} with a body "
                    "that is not JSON (is the URL a Label Studio server?)"
                ) from None
        raise LabelStudioUnavailable(
            f"Label Studio at {self.url} is unavailable: {where} failed {self.retries + 1} "
            f"times ({last})"
        )

    # -- helpers for paged lists ----------------------------------------------------------
    def pages(
        self, path: str, params: dict[str, Any], key: str, page_size: int = 100
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the ``key`` list of each page of a paged list until the server says 404.

        Label Studio's task list answers 404 for a page past the last one; a short page ends
        the listing too.
        """
        page = 1
        while True:
            body = self.request(
                "GET", path, params={**params, "page": page, "page_size": page_size}, allow_404=True
            )
            if body is None:
                return
            items = body.get(key, []) if isinstance(body, dict) else body
            if items:
                yield items
            if len(items) < page_size:
                return
            page += 1


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _detail(response: Any) -> str:
    """The server's short reason: ``detail`` of a JSON error body, else the start of the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("validation_errors", "detail", "errors"):
            if body.get(key):
                return str(body[key])[:300]
    return json.dumps(body)[:300]
