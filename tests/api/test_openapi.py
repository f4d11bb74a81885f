"""The OpenAPI description matches the routes Flask serves, both ways."""

import json
import re

ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _served_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = ROUTE_PARAMETER.sub(r"{\1}", rule.rule)
        operations |= {(path, method.lower()) for method in rule.methods - IGNORED_METHODS}
    return operations


def _described_operations(spec: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec["paths"].items() for method in item}


def test_openapi_is_public_json_of_version_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    spec = json.loads(response.get_data(as_text=True))
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert {"Document", "Party", "Field", "Error"} <= set(spec["components"]["schemas"])
    hook = spec["webhooks"]["documentEvent"]["post"]
    assert hook["parameters"][0]["name"] == "Signet-Signature"
    assert "HMAC-SHA256" in hook["parameters"][0]["description"]


def test_every_route_is_described_and_every_description_is_served(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    served, described = _served_operations(app), _described_operations(spec)
    assert served - described == set(), "routes missing from the spec"
    assert described - served == set(), "the spec describes routes that do not exist"
    assert ("/api/v1/documents/{document_id}/send", "post") in served


def test_every_reference_resolves(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    text = json.dumps(spec)
    for reference in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
        node = spec
        for part in reference.split("/"):
            assert part in node, f"dangling $ref #/{reference}"
            node = node[part]


def test_path_parameters_are_declared(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for name in re.findall(r"{(\w+)}", path):
            for operation in item.values():
                declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
                assert name in declared, f"{path}: {name} not declared"
