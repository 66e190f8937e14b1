"""Every route of the real app and its OpenAPI document, for the tests that check a rule
holds on all of them (and so on routes added later)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.routing import APIRoute

from bots.http.app import create_app

METHODS = ("get", "post", "put", "patch", "delete")


def api_routes(routes=None) -> Iterator[APIRoute]:
    """Each APIRoute, also those of included routers (recent FastAPI keeps them nested)."""
    for route in create_app().routes if routes is None else routes:
        if isinstance(route, APIRoute):
            yield route
        elif (nested := getattr(route, "original_router", None)) is not None:
            yield from api_routes(nested.routes)


def operations(openapi: dict) -> Iterator[tuple[str, str, dict]]:
    """(method, path, operation) for each operation of an OpenAPI document."""
    for path, item in openapi["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def filled(path: str, **values: str) -> str:
    """`path` with its {parameters} replaced: by `values`, or by a placeholder."""
    import re

    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x_placeholder"), path)
