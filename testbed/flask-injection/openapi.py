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
        f"{prefix}/items/find": {"post": op(body={"name": "apple"})},
        f"{prefix}/items/find-id": {"post": op(body={"id": 1})},
    }


def spec(with_pg):
    paths = sql_paths("/sqlite")
    if with_pg:
        paths.update(sql_paths("/pg"))
    paths.update({
        "/mongo/login": {"post": op(body={"username": "alice", "password": "wrong"})},
        "/mongo/products": {"get": op([param("name", "query", "apple")])},
        "/tools/lookup": {"get": op([param("host", "query", "merlon")])},
        "/greeting": {"get": op([param("name", "query", "ann")])},
    })
    return {"openapi": "3.0.3", "info": {"title": "Merlon injection testbed", "version": "1"}, "paths": paths}
