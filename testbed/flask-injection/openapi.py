"""The testbed's OpenAPI 3.0 description."""


def param(name, where, example, typ="string"):
    return {"name": name, "in": where, "required": True, "schema": {"type": typ}, "example": example}


def op(params=None, body=None):
    o = {"responses": {"200": {"description": "ok"}}}
    if params:
        o["parameters"] = params
    if body:
        props = {k: {"type": "integer" if isinstance(v, int) else "string"} for k, v in body.items()}
        o["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"type": "object", "properties": props}, "example": body}}}
    return o


def sql_paths(prefix):
    return {
        f"{prefix}/items/by-name/{{name}}": {"get": op([param("name", "path", "apple")])},
        f"{prefix}/items/{{item_id}}": {"get": op([param("item_id", "path", 1, "integer")])},
        f"{prefix}/items": {"get": op([param("name", "query", "apple")])},
        f"{prefix}/items/by-id": {"get": op([param("id", "query", 1, "integer")])},
        f"{prefix}/items/find": {"post": op(body={"name": "apple"})},
        f"{prefix}/items/find-id": {"post": op(body={"id": 1})},
        # Not "name": a scan harvests name=name from this very document,
        # and a boolean proof needs a value the table holds.
        f"{prefix}/blind/items": {"get": op([param("fruit", "query", "apple")])},
    }


def body_op(example, schema):
    o = op()
    o["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}
    return o


NAME = {"type": "object", "properties": {"name": {"type": "string"}}}


def spec(with_pg):
    paths = sql_paths("/sqlite")
    if with_pg:
        paths.update(sql_paths("/pg"))
        paths["/pg/blind/audit"] = {"get": op([param("fruit", "query", "apple")])}
    paths.update({
        "/sqlite/items/current": {"get": op([param("X-Item-Name", "header", "apple")])},
        "/sqlite/items/saved": {"get": op([param("item", "cookie", "apple")])},
        "/sqlite/items/query": {"post": body_op({"filter": {"name": "apple"}},
                                                {"type": "object", "properties": {"filter": NAME}})},
        "/sqlite/items/batch": {"post": body_op({"items": [{"name": "apple"}]},
                                                {"type": "object", "properties": {"items": {"type": "array", "items": NAME}}})},
    })
    paths.update({
        "/mongo/login": {"post": op(body={"username": "alice", "password": "wrong"})},
        "/mongo/products": {"get": op([param("name", "query", "apple")])},
        "/tools/lookup": {"get": op([param("host", "query", "merlon")])},
        "/tools/ping": {"get": op([param("host", "query", "merlon")])},
        "/greeting": {"get": op([param("name", "query", "ann")])},
        "/greeting/mako": {"get": op([param("name", "query", "ann")])},
    })
    return {"openapi": "3.0.3", "info": {"title": "Merlon injection testbed", "version": "1"}, "paths": paths}
