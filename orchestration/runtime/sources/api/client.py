"""Stigg's GraphQL API over HTTP, through dlt's REST client: cursor paging, retries, timeouts.

- dlt's `RESTClient.paginate` with a `JSONResponseCursorPaginator` that reads
  `pageInfo.endCursor` and `pageInfo.hasNextPage` and puts the cursor into the request body's
  `variables.paging.after`, as nestjs-query pages.
- dlt's retrying session (`dlt.sources.helpers.requests.Client`): 429, 5xx, timeouts and dropped
  connections are retried with exponential backoff (ApiSettings: attempts, first wait, cap).
- A GraphQL error that comes with HTTP 200 is an error too. One that says the request itself is
  wrong (bad key, no access, bad query) is not retried; any other is, like a 5xx.
- The key rides in an auth object that adds `X-API-KEY` to the prepared request: it is in no
  request dict that dlt logs, and in no message here. Errors name the key by its label.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from orchestration.settings import ApiKey, ApiSettings

# GraphQL error codes that no retry can mend.
_PERMANENT_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "UNAUTHORIZED",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "BAD_USER_INPUT",
}


class StiggApiError(requests.HTTPError):
    """A request that failed for good: after its retries, or at once when no retry can help.
    Its message names the environment (or the key's position) and the query, never the key."""


class _ApiKeyAuth(requests.auth.AuthBase):
    def __init__(self, key: ApiKey) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["X-API-KEY"] = self._key.value
        return request

    def __repr__(self) -> str:
        return f"<X-API-KEY of {self._key.label}>"


def _graphql_errors(response: requests.Response) -> list[dict]:
    if response.status_code != 200:
        return []
    try:
        body = response.json()
    except ValueError:
        return [{"message": "the response is not JSON"}]
    return list(body.get("errors") or []) if isinstance(body, dict) else []


def _is_permanent(errors: list[dict]) -> bool:
    return any(
        str((e.get("extensions") or {}).get("code", "")).upper() in _PERMANENT_CODES for e in errors
    )


def _retry_graphql_error(response: requests.Response | None, exception: BaseException | None):
    """dlt's retry predicate: a transient GraphQL error with HTTP 200 is retried like a 5xx."""
    if isinstance(exception, StiggApiError) and exception.response is not None:
        errors = _graphql_errors(exception.response)
        return bool(errors) and not _is_permanent(errors)
    return False


class StiggApi:
    """One key's view of the API: `pages()` for the lists, `query()` for one call."""

    def __init__(self, settings: ApiSettings, key: ApiKey) -> None:
        self.settings = settings
        self.key = key
        self._http = Client(
            request_timeout=settings.timeout_seconds,
            raise_for_status=False,  # the response hook below decides, and names the query
            request_max_attempts=settings.max_attempts,
            request_backoff_factor=settings.backoff_seconds,
            request_max_retry_delay=settings.max_backoff_seconds,
            respect_retry_after_header=True,
            retry_condition=_retry_graphql_error,
            max_connections=max(settings.concurrency, 4),
        )
        self._auth = _ApiKeyAuth(key)
        self.requests = 0

    def _client(self) -> RESTClient:
        # The retrying session is per thread (dlt's Client); so is the REST client over it.
        return RESTClient(base_url=self.settings.url, session=self._http.session, auth=self._auth)

    def _hook(self, operation: str):
        def check(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
            self.requests += 1
            if response.status_code in (401, 403):
                raise StiggApiError(
                    f"{self.key.label}: Stigg's API refused {operation} (HTTP "
                    f"{response.status_code}): the key is wrong, or it has no access to this "
                    "query (a scoped key)",
                    response=response,
                )
            if response.status_code >= 400:
                raise StiggApiError(
                    f"{self.key.label}: {operation} failed with HTTP {response.status_code} "
                    f"after {self.settings.max_attempts} attempts",
                    response=response,
                )
            errors = _graphql_errors(response)
            if errors:
                messages = "; ".join(str(e.get("message", e))[:300] for e in errors[:3])
                attempts = (
                    ""
                    if _is_permanent(errors)
                    else (f" after {self.settings.max_attempts} attempts")
                )
                raise StiggApiError(
                    f"{self.key.label}: {operation} returned a GraphQL error with HTTP 200"
                    f"{attempts}: {messages}",
                    response=response,
                )
            return response

        return check

    def pages(
        self, operation: str, root: str, document: str, variables: dict[str, Any]
    ) -> Iterator[list[dict]]:
        """Each page's nodes of the list `root`, following the cursor to the end."""
        paginator = JSONResponseCursorPaginator(
            cursor_path=f"data.{root}.pageInfo.endCursor",
            cursor_body_path="variables.paging.after",
            has_more_path=f"data.{root}.pageInfo.hasNextPage",
        )
        body = {
            "operationName": operation,
            "query": document,
            "variables": {**variables, "paging": {"first": self.settings.page_size}},
        }
        try:
            for page in self._client().paginate(
                "",
                method="POST",
                json=body,
                paginator=paginator,
                data_selector=f"data.{root}.edges",
                hooks={"response": [self._hook(operation)]},
            ):
                yield [edge["node"] for edge in page]
        except StiggApiError:
            raise
        except requests.RequestException as exc:
            raise StiggApiError(self._gave_up(operation, exc)) from None

    def query(self, operation: str, document: str, variables: dict[str, Any]) -> dict:
        """One call's `data`."""
        body = {"operationName": operation, "query": document, "variables": variables}
        try:
            response = self._client().request(
                "", method="POST", json=body, hooks={"response": [self._hook(operation)]}
            )
        except StiggApiError:
            raise
        except requests.RequestException as exc:
            raise StiggApiError(self._gave_up(operation, exc)) from None
        return response.json()["data"]

    def _gave_up(self, operation: str, exc: requests.RequestException) -> str:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "lost its connection"
        return (
            f"{self.key.label}: {operation} {kind} after {self.settings.max_attempts} attempts "
            f"({type(exc).__name__}) at {self.settings.url}"
        )
