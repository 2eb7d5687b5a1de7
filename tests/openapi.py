"""Answers checked against the OpenAPI document: the status is documented for the
operation, and the body conforms to the schema documented for that status."""

from functools import cache

import jsonschema
from drf_spectacular.generators import SchemaGenerator


@cache
def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _as_json_schema(node):
    """OpenAPI 3.0 writes `nullable: true` where JSON Schema wants a `null` type."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def assert_documented(response, method: str, path: str) -> None:
    """The response's status, content type and body are those the schema documents."""
    schema = api_schema()
    responses = schema["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {path} answered {status}; documented: {sorted(responses)}"
    media_type = response["Content-Type"].split(";")[0]
    content = responses[status].get("content", {})
    assert media_type in content, (
        f"{method} {path} {status} answered {media_type}; documented: {sorted(content)}"
    )
    assert_conforms(response.json(), content[media_type]["schema"], f"{method} {path} {status}")


def assert_conforms(value, schema: dict, where: str = "") -> None:
    """`value` is valid under `schema`, a schema of the OpenAPI document (its `$ref`s included)."""
    document = {**_as_json_schema(schema), "components": _as_json_schema(api_schema()["components"])}
    # OpenAPI 3.0 schemas are JSON Schema draft 4 (boolean `exclusiveMaximum`), less `nullable`.
    errors = [error.message for error in jsonschema.Draft4Validator(document).iter_errors(value)]
    assert errors == [], f"{where}: {errors}"
