"""The OpenAPI contract: loading and its error texts, routing, and per-request parameters."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from aro.net.openapi import (
    Contract,
    ContractError,
    Operation,
    Parameter,
    Router,
    cookie_parameters,
    header_parameters,
    parse_query,
    raw_query_parameters,
)

HEADER = """\
openapi: 3.0.3
info:
  title: Test API
  version: 1.0.0
"""


def load(tmp_path: Path, body: str, header: str = HEADER) -> Contract:
    """Write ``header`` + dedented ``body`` as openapi.yaml and load it."""
    (tmp_path / "openapi.yaml").write_text(header + textwrap.dedent(body))
    contract = Contract.load(tmp_path)
    assert contract is not None
    return contract


def error(tmp_path: Path, body: str, header: str = HEADER) -> str:
    with pytest.raises(ContractError) as caught:
        load(tmp_path, body, header)
    return str(caught.value)


def routes(*specs: str) -> Router:
    """A router over ``"METHOD /path"`` specs; each operationId is ``METHOD /path``."""
    paths: dict[str, dict] = {}
    for spec in specs:
        method, path = spec.split(" ", 1)
        paths.setdefault(path, {})[method.lower()] = {"operationId": spec, "responses": {}}
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}
    return Contract.from_document(document).router


def operation(tmp_path: Path, parameters: str) -> Operation:
    """The single operation ``GET /x`` declaring the given parameters (a YAML list)."""
    get = {"operationId": "x", "parameters": yaml.safe_load(parameters), "responses": {}}
    contract = load(tmp_path, yaml.safe_dump({"paths": {"/x": {"get": get}}}))
    return contract.operations[0]


# --------------------------------------------------------------------------- finding the file


def test_no_contract_is_none(tmp_path: Path) -> None:
    assert Contract.load(tmp_path) is None


def test_contract_files_in_reference_order(tmp_path: Path) -> None:
    document = {"openapi": "3.0.0", "info": {"title": "json", "version": "1"}, "paths": {}}
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    assert Contract.load(tmp_path).title == "json"
    (tmp_path / "openapi.yml").write_text(HEADER.replace("Test API", "yml") + "paths: {}\n")
    assert Contract.load(tmp_path).title == "yml"
    (tmp_path / "openapi.yaml").write_text(HEADER.replace("Test API", "yaml") + "paths: {}\n")
    assert Contract.load(tmp_path).title == "yaml"


def test_title_schemas_and_no_servers(tmp_path: Path) -> None:
    contract = load(
        tmp_path,
        """\
        paths: {}
        components:
          schemas:
            User: {type: object, required: [name]}
        """,
    )
    assert contract.title == "Test API"
    assert contract.schemas == {"User": {"type": "object", "required": ["name"]}}
    assert contract.server_port is None
    assert contract.operations == ()


@pytest.mark.parametrize(
    ("servers", "port"),
    [
        ("- url: http://localhost:8087", 8087),
        ("- url: http://example.com:9000/api/v1\n- url: http://localhost:1", 9000),
        ("- url: http://localhost", None),
        ("- url: /api", None),
        ("- url: http://localhost:abc", None),
        ("[]", None),
        (
            "- url: 'http://{host}:{port}/v1'\n"
            "  variables:\n    host: {default: localhost}\n    port: {default: '8123'}",
            8123,
        ),
        (
            "- url: 'http://localhost:{port}'\n  variables:\n    port: {default: 8124}",
            8124,
        ),
    ],
)
def test_server_port(tmp_path: Path, servers: str, port: int | None) -> None:
    body = "paths: {}\nservers:\n" + textwrap.indent(servers, "  ") + "\n"
    assert load(tmp_path, body).server_port == port


# --------------------------------------------------------------------------- document errors


def test_unsupported_version(tmp_path: Path) -> None:
    header = "openapi: 2.0.1\ninfo: {title: t, version: '1'}\n"
    assert error(tmp_path, "paths: {}\n", header) == "Unsupported OpenAPI version: 2.0.1"


def test_numeric_versions_are_accepted(tmp_path: Path) -> None:
    contract = load(tmp_path, "paths: {}\n", "openapi: 3.0\ninfo: {title: t, version: 1.0}\n")
    assert contract.title == "t"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "Missing key 'openapi' at ",
        ),
        ("openapi: 3.0.0\npaths: {}\n", "Missing key 'info' at "),
        ("openapi: 3.0.0\ninfo: {version: '1'}\npaths: {}\n", "Missing key 'title' at info"),
        ("openapi: 3.0.0\ninfo: {title: t}\npaths: {}\n", "Missing key 'version' at info"),
        ("openapi: 3.0.0\ninfo: {title: t, version: '1'}\n", "Missing key 'paths' at "),
        (
            "openapi: ~\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "Missing value of type String at openapi",
        ),
        (
            "openapi: [3]\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "Type mismatch for String at openapi",
        ),
        ("- openapi\n", "Type mismatch for Dictionary<String, Any> at "),
        (
            "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: [a]\n",
            "Type mismatch for Dictionary<String, Any> at paths",
        ),
        (
            HEADER + "paths:\n  /x:\n    get:\n      operationId: x\n",
            "Missing key 'responses' at paths./x.get",
        ),
        (
            HEADER + "paths: {}\nwebhooks:\n  hook:\n    post: {operationId: h}\n",
            "Missing key 'responses' at webhooks.hook.post",
        ),
        (
            HEADER + "paths:\n  /x:\n    parameters: {a: 1}\n",
            "Type mismatch for Array<Any> at paths./x.parameters",
        ),
        (
            HEADER + "paths:\n  /x:\n    get: {operationId: x, responses: [], parameters: 1}\n",
            "Type mismatch for Array<Any> at paths./x.get.parameters",
        ),
        (
            HEADER + "paths: {}\ncomponents: {schemas: [a]}\n",
            "Type mismatch for Dictionary<String, Any> at components.schemas",
        ),
    ],
)
def test_shape_errors(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text, header="") == f"Failed to parse OpenAPI specification: {message}"


def test_empty_document(tmp_path: Path) -> None:
    assert error(tmp_path, "# nothing\n", header="") == "OpenAPI document is empty"


def test_invalid_yaml(tmp_path: Path) -> None:
    text = error(tmp_path, "paths: {\n", header="")
    assert text.startswith("Failed to parse OpenAPI specification: ")


def test_invalid_json(tmp_path: Path) -> None:
    (tmp_path / "openapi.json").write_text("{nope")
    with pytest.raises(ContractError) as caught:
        Contract.load(tmp_path)
    assert str(caught.value) == (
        "Failed to parse OpenAPI specification: Data corrupted at : "
        "The given data was not valid JSON."
    )


def test_invalid_encoding(tmp_path: Path) -> None:
    (tmp_path / "openapi.yaml").write_bytes(b"openapi: \xff\n")
    with pytest.raises(ContractError) as caught:
        Contract.load(tmp_path)
    assert str(caught.value) == "OpenAPI file has invalid encoding (expected UTF-8)"


# --------------------------------------------------------------------------- operationIds


def test_missing_operation_id(tmp_path: Path) -> None:
    body = """\
    paths:
      /x:
        get: {operationId: ok, responses: {}}
        post: {responses: {}}
    """
    assert error(tmp_path, body) == (
        "Missing operationId for POST /x. All operations must have an operationId."
    )


def test_empty_operation_id_is_missing(tmp_path: Path) -> None:
    body = "paths:\n  /x:\n    delete: {operationId: '', responses: {}}\n"
    assert error(tmp_path, body) == (
        "Missing operationId for DELETE /x. All operations must have an operationId."
    )


def test_duplicate_operation_id(tmp_path: Path) -> None:
    body = """\
    paths:
      /a:
        get: {operationId: same, responses: {}}
      /b:
        post: {operationId: other, responses: {}}
        put: {operationId: same, responses: {}}
    """
    assert error(tmp_path, body) == "Duplicate operationId 'same' found:\n  - GET /a\n  - PUT /b"


def test_duplicate_between_path_and_webhook_name(tmp_path: Path) -> None:
    body = """\
    paths:
      /a:
        get: {operationId: hook, responses: {}}
    webhooks:
      hook:
        post: {responses: {}}
    """
    assert error(tmp_path, body) == (
        "Duplicate operationId 'hook' found:\n  - GET /a\n  - POST /hook"
    )


def test_version_is_checked_before_operation_ids(tmp_path: Path) -> None:
    header = "openapi: 2.0.0\ninfo: {title: t, version: '1'}\n"
    body = "paths:\n  /x:\n    get: {responses: {}}\n"
    assert error(tmp_path, body, header) == "Unsupported OpenAPI version: 2.0.0"


def test_missing_operation_id_is_checked_before_duplicates(tmp_path: Path) -> None:
    body = """\
    paths:
      /a:
        get: {operationId: d, responses: {}}
        put: {operationId: d, responses: {}}
      /b:
        get: {responses: {}}
    """
    assert error(tmp_path, body).startswith("Missing operationId for GET /b.")


# --------------------------------------------------------------------------- references


def test_invalid_schema_reference_lists_available(tmp_path: Path) -> None:
    body = """\
    paths:
      /x:
        post:
          operationId: x
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Missing'}
          responses: {}
    components:
      schemas:
        User: {type: object}
        Order: {type: object}
    """
    assert error(tmp_path, body) == (
        "Invalid schema reference: #/components/schemas/Missing\nAvailable schemas: User, Order"
    )


def test_invalid_schema_reference_without_components(tmp_path: Path) -> None:
    body = """\
    paths:
      /x:
        get:
          operationId: x
          responses:
            '200':
              description: ok
              content:
                application/json:
                  schema:
                    type: array
                    items: {$ref: '#/components/schemas/Gone'}
    """
    assert error(tmp_path, body) == "Invalid schema reference: #/components/schemas/Gone"


@pytest.mark.parametrize(
    "schema",
    [
        "{type: object, properties: {a: {$ref: '#/components/schemas/Deep'}}}",
        "{allOf: [{type: object}, {$ref: '#/components/schemas/Deep'}]}",
        "{oneOf: [{$ref: '#/components/schemas/Deep'}]}",
        "{anyOf: [{$ref: '#/components/schemas/Deep'}]}",
        "{type: array, items: {type: array, items: {$ref: '#/components/schemas/Deep'}}}",
    ],
)
def test_nested_schema_references_are_checked(tmp_path: Path, schema: str) -> None:
    body = f"""\
    paths:
      /x:
        get:
          operationId: x
          responses:
            default:
              description: d
              content:
                application/json:
                  schema: {schema}
    """
    assert error(tmp_path, body) == "Invalid schema reference: #/components/schemas/Deep"


def test_references_the_reference_does_not_check(tmp_path: Path) -> None:
    body = """\
    paths:
      /x:
        get:
          operationId: x
          parameters:
            - $ref: 'common.yaml#/components/parameters/Page'
          responses:
            '200':
              description: ok
              content:
                application/json:
                  schema: {$ref: 'other.yaml#/Thing'}
            '404': {$ref: '#/components/responses/NotFound'}
    components:
      schemas:
        Unused: {$ref: '#/components/schemas/Nowhere'}
    """
    contract = load(tmp_path, body)
    assert contract.operations[0].parameters == ()


@pytest.mark.parametrize("level", ["path", "operation"])
def test_invalid_parameter_reference(tmp_path: Path, level: str) -> None:
    parameters = "parameters:\n  - $ref: '#/components/parameters/Nope'\n"
    shared = textwrap.indent(parameters, " " * 4) if level == "path" else ""
    own = textwrap.indent(parameters, " " * 6) if level == "operation" else ""
    body = (
        "paths:\n  /x:\n"
        + shared
        + "    get:\n      operationId: x\n      responses: {}\n"
        + own
        + "components:\n  parameters:\n    Page: {name: page, in: query}\n"
    )
    assert error(tmp_path, body) == (
        "Invalid parameter reference: #/components/parameters/Nope\nAvailable parameters: Page"
    )


def test_schema_references_are_checked_before_parameter_references(tmp_path: Path) -> None:
    body = """\
    paths:
      /x:
        get:
          operationId: x
          parameters: [{$ref: '#/components/parameters/P'}]
          responses:
            '200': {description: ok, content: {a/b: {schema: {$ref: '#/components/schemas/S'}}}}
    """
    assert error(tmp_path, body) == "Invalid schema reference: #/components/schemas/S"


# --------------------------------------------------------------------------- handlers


def test_check_handlers_lists_every_missing_operation(tmp_path: Path) -> None:
    contract = load(
        tmp_path,
        """\
        paths:
          /users:
            get: {operationId: listUsers, responses: {}}
            post: {operationId: createUser, responses: {}}
          /users/{id}:
            delete: {operationId: deleteUser, responses: {}}
        webhooks:
          newOrder:
            post: {responses: {}}
        """,
    )
    with pytest.raises(ContractError) as caught:
        contract.check_handlers({"createUser"})
    assert str(caught.value) == (
        "Missing ARO feature set handlers for the following operations:\n"
        "  - GET /users requires feature set named 'listUsers'\n"
        "  - DELETE /users/{id} requires feature set named 'deleteUser'\n"
        "  - POST /newOrder requires feature set named 'newOrder'\n"
        "\n"
        "Create feature sets with names matching the operationIds in your OpenAPI contract."
    )
    contract.check_handlers({"listUsers", "createUser", "deleteUser", "newOrder"})


def test_check_handlers_is_case_sensitive_and_exempts_upgrades(tmp_path: Path) -> None:
    contract = load(
        tmp_path,
        """\
        paths:
          /ws:
            get:
              operationId: websocketEndpoint
              responses:
                '101': {description: Switching Protocols}
          /health:
            get: {operationId: healthCheck, responses: {200: {description: ok}}}
        """,
    )
    ws, health = contract.operations
    assert ws.upgrade and not health.upgrade
    assert health.responses == {"200": {"description": "ok"}}
    contract.check_handlers({"healthCheck"})
    with pytest.raises(ContractError, match="requires feature set named 'healthCheck'"):
        contract.check_handlers({"HealthCheck"})


# --------------------------------------------------------------------------- operations


def test_operation_fields(tmp_path: Path) -> None:
    contract = load(
        tmp_path,
        """\
        paths:
          /orders:
            post:
              operationId: createOrder
              requestBody:
                content:
                  application/json: {schema: {type: object}}
              responses: {'201': {description: created}}
            get: {operationId: listOrders, responses: {}}
        """,
    )
    listing, create = contract.operations  # the reference's method order: GET before POST
    assert (listing.method, listing.path, listing.operation_id) == ("GET", "/orders", "listOrders")
    assert listing.request_body is None
    assert create.request_body == {"content": {"application/json": {"schema": {"type": "object"}}}}
    assert create.responses == {"201": {"description": "created"}}
    assert not create.upgrade


def test_parameters_merge_and_resolve_references(tmp_path: Path) -> None:
    contract = load(
        tmp_path,
        """\
        paths:
          /greet/{id}:
            parameters:
              - {name: id, in: path, required: true, schema: {type: string}}
              - $ref: '#/components/parameters/Name'
              - {name: trace, in: header}
            get:
              operationId: greet
              parameters:
                - $ref: '#/components/parameters/Lang'
                - {name: trace, in: header, schema: {type: integer}}
                - {name: trace, in: query}
              responses: {}
        components:
          parameters:
            Name: {name: name, in: query, schema: {type: string, default: World}}
            Lang: {name: lang, in: query, schema: {$ref: '#/components/schemas/Langs'}}
          schemas:
            Langs: {type: array, items: {type: string}}
        """,
    )
    parameters = contract.operations[0].parameters
    assert [(p.name, p.location) for p in parameters] == [
        ("id", "path"),
        ("name", "query"),
        ("lang", "query"),
        ("trace", "header"),
        ("trace", "query"),
    ]
    assert parameters[0] == Parameter("id", "path", {"type": "string"}, "simple", False, False)
    assert parameters[1].schema == {"type": "string", "default": "World"}
    assert parameters[2] == Parameter(
        "lang", "query", {"type": "array", "items": {"type": "string"}}, "form", True, True
    )
    assert parameters[3].schema == {"type": "integer"}


@pytest.mark.parametrize(
    ("declaration", "style", "explode", "is_array"),
    [
        ("{name: a, in: query}", "form", True, False),
        ("{name: a, in: cookie}", "form", True, False),
        ("{name: a, in: header}", "simple", False, False),
        ("{name: a, in: query, schema: {type: array}}", "form", True, True),
        ("{name: a, in: query, explode: false, schema: {type: array}}", "form", False, True),
        (
            "{name: a, in: query, style: pipeDelimited, schema: {type: array}}",
            "pipeDelimited",
            False,
            True,
        ),
        ("{name: a, in: query, schema: {type: [array, 'null']}}", "form", True, True),
        ("{name: a, in: query, schema: {type: ['null', string]}}", "form", True, False),
        ("{name: a, in: query, schema: {type: object}}", "form", True, False),
    ],
)
def test_parameter_defaults(
    tmp_path: Path, declaration: str, style: str, explode: bool, is_array: bool
) -> None:
    (parameter,) = operation(tmp_path, f"- {declaration}\n").parameters
    assert (parameter.style, parameter.explode, parameter.is_array) == (style, explode, is_array)


def test_unusable_parameters_are_dropped(tmp_path: Path) -> None:
    op = operation(tmp_path, "- {in: query}\n- {name: a}\n- plain\n- {name: b, in: query}\n")
    assert [p.name for p in op.parameters] == ["b"]


# --------------------------------------------------------------------------- routing


def test_literal_segments_beat_templates(tmp_path: Path) -> None:
    router = routes("GET /users/{id}", "GET /users/me")
    op, params, allowed = router.resolve("GET", "/users/me")
    assert (op.operation_id, params, allowed) == ("GET /users/me", {}, ())
    op, params, _ = router.resolve("GET", "/users/42")
    assert (op.operation_id, params) == ("GET /users/{id}", {"id": "42"})


def test_more_literal_segments_win(tmp_path: Path) -> None:
    router = routes("GET /{a}/{b}/{c}", "GET /x/{b}/{c}", "GET /x/{b}/z")
    assert router.resolve("GET", "/x/y/z")[0].operation_id == "GET /x/{b}/z"
    assert router.resolve("GET", "/x/y/w")[0].operation_id == "GET /x/{b}/{c}"
    assert router.resolve("GET", "/q/y/z")[0].operation_id == "GET /{a}/{b}/{c}"


def test_each_method_takes_its_most_specific_route(tmp_path: Path) -> None:
    router = routes("GET /users/me", "DELETE /users/{id}")
    op, params, _ = router.resolve("DELETE", "/users/me")
    assert (op.operation_id, params) == ("DELETE /users/{id}", {"id": "me"})


def test_segment_counts_must_match(tmp_path: Path) -> None:
    router = routes("GET /users/{id}")
    assert router.resolve("GET", "/users/1/extra") == (None, None, ())
    assert router.resolve("GET", "/users") == (None, None, ())
    assert router.resolve("GET", "/USERS/1") == (None, None, ())


def test_trailing_and_leading_slashes(tmp_path: Path) -> None:
    router = routes("GET /users", "GET /users/{id}", "GET /")
    assert router.resolve("GET", "/users/")[0].operation_id == "GET /users"
    assert router.resolve("GET", "/users///")[0].operation_id == "GET /users"
    assert router.resolve("GET", "users")[0].operation_id == "GET /users"
    assert router.resolve("GET", "users/7/")[1] == {"id": "7"}
    assert router.resolve("GET", "/")[0].operation_id == "GET /"
    assert router.resolve("GET", "")[0].operation_id == "GET /"
    assert router.resolve("GET", "//")[0].operation_id == "GET /"


def test_double_slashes_are_not_collapsed(tmp_path: Path) -> None:
    router = routes("GET /a/b", "GET /a/{x}/b", "GET /{y}/a")
    assert router.resolve("GET", "/a//b")[1] == {"x": ""}
    assert router.resolve("GET", "//a")[1] == {"y": ""}
    assert router.resolve("GET", "/a/b")[1] == {}


def test_template_matches_an_empty_segment_but_not_the_root(tmp_path: Path) -> None:
    router = routes("GET /{name}", "GET /files/{name}/raw")
    assert router.resolve("GET", "/") == (None, None, ())
    assert router.resolve("GET", "/files//raw")[1] == {"name": ""}
    assert router.resolve("GET", "/files/a%2Fb/raw")[1] == {"name": "a%2Fb"}


def test_template_with_trailing_slash_is_reachable(tmp_path: Path) -> None:
    router = routes("GET /items/{id}/")
    assert router.resolve("GET", "/items/3")[1] == {"id": "3"}


def test_partial_braces_are_literal(tmp_path: Path) -> None:
    router = routes("GET /files/{name}.json")
    assert router.resolve("GET", "/files/{name}.json")[0] is not None
    assert router.resolve("GET", "/files/a.json") == (None, None, ())


def test_method_is_compared_upper_case(tmp_path: Path) -> None:
    router = routes("PATCH /x")
    assert router.resolve("patch", "/x")[0].method == "PATCH"


def test_same_template_with_other_parameter_names(tmp_path: Path) -> None:
    router = routes("GET /u/{id}", "PUT /u/{userId}")
    assert router.resolve("GET", "/u/1")[1] == {"id": "1"}
    assert router.resolve("PUT", "/u/1")[1] == {"userId": "1"}


def test_known_path_with_another_method_lists_allowed(tmp_path: Path) -> None:
    router = routes("POST /users", "GET /users", "DELETE /users/{id}", "PUT /users/me")
    assert router.resolve("PATCH", "/users") == (None, None, ("GET", "HEAD", "POST"))
    assert router.resolve("GET", "/users/me") == (None, None, ("PUT", "DELETE"))
    assert router.resolve("GET", "/users/7") == (None, None, ("DELETE",))
    assert router.resolve("GET", "/nothing") == (None, None, ())


def test_head_falls_back_to_get(tmp_path: Path) -> None:
    router = routes("GET /items/{id}", "POST /upload")
    op, params, allowed = router.resolve("HEAD", "/items/9")
    assert (op.operation_id, params, allowed) == ("GET /items/{id}", {"id": "9"}, ())
    assert router.resolve("head", "/upload") == (None, None, ("POST",))


def test_declared_head_wins_over_get(tmp_path: Path) -> None:
    router = routes("GET /x", "HEAD /x")
    assert router.resolve("HEAD", "/x")[0].operation_id == "HEAD /x"
    assert router.resolve("OPTIONS", "/x") == (None, None, ("GET", "HEAD"))


def test_webhooks_are_routed_by_name(tmp_path: Path) -> None:
    contract = load(
        tmp_path,
        """\
        paths:
          /health:
            get: {operationId: checkHealth, responses: {}}
        webhooks:
          newOrder:
            post: {responses: {'200': {description: ok}}}
          paymentReceived:
            post: {operationId: handlePayment, responses: {}}
          /slashed:
            put: {responses: {}}
        """,
        header="openapi: 3.1.0\ninfo: {title: Hooks, version: 1.0.0}\n",
    )
    router = contract.router
    assert router.resolve("POST", "/newOrder")[0].operation_id == "newOrder"
    assert router.resolve("POST", "/paymentReceived")[0].operation_id == "handlePayment"
    assert router.resolve("PUT", "/slashed")[0].path == "/slashed"
    assert router.resolve("GET", "/newOrder") == (None, None, ("POST",))
    assert [op.operation_id for op in contract.operations] == [
        "checkHealth",
        "newOrder",
        "handlePayment",
        "/slashed",
    ]


def _specificity(template: str) -> int:
    segments = template.strip("/").split("/")
    return 10 * len(segments) + 5 * sum(not s.startswith("{") for s in segments)


def _matches(template: str, path: str) -> bool:
    segments, parts = template.strip("/").split("/"), path.strip("/").split("/")
    return len(segments) == len(parts) and all(
        s.startswith("{") or s == p for s, p in zip(segments, parts, strict=True)
    )


_SEGMENT = st.sampled_from(["a", "b", "{p}", "{q}"])
_TEMPLATE = st.lists(_SEGMENT, min_size=1, max_size=3).map(lambda s: "/" + "/".join(s))
_PATH = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3)


@given(
    st.lists(st.tuples(st.sampled_from(["GET", "POST"]), _TEMPLATE), max_size=8, unique=True),
    st.sampled_from(["GET", "POST"]),
    _PATH.map(lambda s: "/" + "/".join(s)),
)
def test_router_picks_a_most_specific_matching_route(
    declared: list[tuple[str, str]], method: str, path: str
) -> None:
    """Whatever the declaration order, the answer is a matching route of the method with the
    highest specificity, and None only when no route of the method matches."""
    paths: dict[str, dict] = {}
    for index, (verb, template) in enumerate(declared):
        op = {"operationId": f"op{index}", "responses": {}}
        paths.setdefault(template, {}).setdefault(verb.lower(), op)
    document = {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": paths}
    router = Contract.from_document(document).router
    candidates = [t for verb, t in declared if verb == method and _matches(t, path)]
    op, params, allowed = router.resolve(method, path)
    if not candidates:
        assert op is None
        others = {verb for verb, t in declared if _matches(t, path)}
        assert set(allowed) == others | ({"HEAD"} if "GET" in others else set())
        return
    assert op is not None and op.method == method and _matches(op.path, path)
    assert _specificity(op.path) == max(map(_specificity, candidates))
    assert allowed == ()
    segments, parts = op.path.strip("/").split("/"), path.strip("/").split("/")
    assert params == {s[1:-1]: p for s, p in zip(segments, parts, strict=True) if s[0] == "{"}


# --------------------------------------------------------------------------- query parameters


def test_parse_query_without_operation() -> None:
    assert parse_query("", None) == {}
    assert parse_query("a=1&b&a=2&=x&&c=", None) == {"a": "2", "b": "", "c": ""}
    assert parse_query("q=hello+world&p=a%2Bb&e=%C3%A9", None) == {
        "q": "hello world",
        "p": "a+b",
        "e": "é",
    }
    assert parse_query("k%20ey=v=w", None) == {"k ey": "v=w"}


def test_malformed_escapes_are_kept() -> None:
    assert parse_query("a=100%&b=%zz&c=%FF", None) == {"a": "100%", "b": "%zz", "c": "%FF"}
    assert parse_query("d=%41+%", None) == {"d": "%41 %"}


def test_parse_query_declared_parameters(tmp_path: Path) -> None:
    op = operation(
        tmp_path,
        """\
        - {name: tag, in: query, schema: {type: array}}
        - {name: ids, in: query, explode: false, schema: {type: array}}
        - {name: words, in: query, style: spaceDelimited, schema: {type: array}}
        - {name: pipes, in: query, style: pipeDelimited, schema: {type: array}}
        - {name: deep, in: query, style: deepObject, schema: {type: array}}
        - {name: deepx, in: query, style: deepObject, explode: true, schema: {type: array}}
        - {name: page, in: query, schema: {type: integer}}
        - {name: filter, in: query, schema: {type: object}}
        - {name: other, in: header, schema: {type: array}}
        """,
    )
    query = (
        "tag=a&tag=b+c&ids=1,2,,3&ids=9&words=x%20y+z&pipes=p|q&deep=1,2&deepx=1&deepx=2"
        "&page=1&page=2&filter=f&filter=g&other=o1&other=o2&free=1&free=2"
    )
    assert parse_query(query, op) == {
        "tag": ["a", "b c"],
        "ids": ["1", "2", "", "3"],
        "words": ["x", "y", "z"],
        "pipes": ["p", "q"],
        "deep": ["1,2"],
        "deepx": ["1", "2"],
        "page": "1",
        "filter": "f",
        "other": "o2",
        "free": "2",
    }


def test_parse_query_space_delimited_quirks(tmp_path: Path) -> None:
    op = operation(
        tmp_path, "- {name: w, in: query, style: spaceDelimited, schema: {type: array}}\n"
    )
    assert parse_query("w=a%2520b", op) == {"w": ["a", "b"]}
    assert parse_query("w=", op) == {"w": [""]}


def test_parse_query_array_via_schema_reference(tmp_path: Path) -> None:
    contract = load(
        tmp_path,
        """\
        paths:
          /x:
            get:
              operationId: x
              parameters: [{$ref: '#/components/parameters/Ids'}]
              responses: {}
        components:
          parameters:
            Ids: {name: ids, in: query, explode: false, schema: {$ref: '#/components/schemas/L'}}
          schemas:
            L: {type: array, items: {type: string}}
        """,
    )
    assert parse_query("ids=1,2", contract.operations[0]) == {"ids": ["1", "2"]}


def test_raw_query_parameters() -> None:
    assert raw_query_parameters("") == {}
    assert raw_query_parameters("a=1&b&c=&=d&&a=3") == {"a": "3"}
    assert raw_query_parameters("q=hello+world&e=%C3%A9&p=%2B") == {
        "q": "hello world",
        "e": "é",
        "p": "+",
    }
    assert raw_query_parameters("a==b&x=1=2") == {"a": "=b", "x": "1=2"}
    assert raw_query_parameters("=b=c&==z") == {"b": "c"}


# --------------------------------------------------------------------------- headers, cookies


def test_header_parameters(tmp_path: Path) -> None:
    op = operation(
        tmp_path,
        "- {name: X-Api-Key, in: header}\n- {name: trace, in: header}\n- {name: q, in: query}\n",
    )
    headers = {"x-API-key": "k", "Trace": "t", "q": "no", "Accept": "*/*"}
    assert header_parameters(headers, op) == {"x-api-key": "k", "trace": "t"}
    assert header_parameters({}, op) == {}
    assert header_parameters(headers, None) == {}
    undeclared = operation(tmp_path, "- {name: q, in: query}\n")
    assert header_parameters(headers, undeclared) == {}


def test_cookie_parameters(tmp_path: Path) -> None:
    op = operation(
        tmp_path,
        "- {name: session, in: cookie}\n- {name: Theme, in: cookie}\n"
        "- {name: absent, in: cookie}\n- {name: q, in: query}\n",
    )
    header = " session = a%20b+c ;theme=dark; Theme=light;junk; =x;q=1;session2=z"
    assert cookie_parameters(header, op) == {"session": "a b+c", "Theme": "light"}
    assert cookie_parameters("session=%zz", op) == {"session": "%zz"}
    assert cookie_parameters("session=1; session=2", op) == {"session": "2"}
    assert cookie_parameters(None, op) == {}
    assert cookie_parameters("session=1", None) == {}
    assert cookie_parameters("q=1", operation(tmp_path, "- {name: q, in: query}\n")) == {}
