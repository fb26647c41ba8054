"""The OpenAPI 3.0 document each variant serves at /openapi.json.

It describes each variant as its developer would: the request schemas list
the fields a client is meant to send, and additionalProperties is false only
where the server really ignores everything else (fixed, echo and the top
level of nested). Server-owned attributes appear in the User response schema
as readOnly, which is what they are meant to be.
"""

import copy

# Variants whose write routes discard fields outside their allowlists.
STRICT = {"fixed", "echo", "nested"}


def string(max_length=None, **extra):
    schema = {"type": "string", **extra}
    if max_length:
        schema["maxLength"] = max_length
    return schema


def request_schemas(variant):
    strict = variant in STRICT
    validated = variant in STRICT or variant == "keychange"
    username = (
        string(64, minLength=1, pattern="^[A-Za-z0-9_.-]+$")
        if validated
        else string()
    )
    email = string(254, format="email") if validated else string(format="email")
    display_name = string(100, minLength=1) if validated else string()

    create = {
        "type": "object",
        "required": ["username", "email"],
        "properties": {
            "username": username,
            "email": email,
            "display_name": display_name,
        },
    }
    update = {
        "type": "object",
        "properties": {
            "email": copy.deepcopy(email),
            "display_name": copy.deepcopy(display_name),
        },
    }
    if variant == "storeall":
        create["properties"]["bio"] = string()
        update["properties"]["bio"] = string()
    if variant == "nested":
        # The developer documents the profile fields a client should send,
        # and leaves the nested objects open, which is what the server does.
        profile = {
            "type": "object",
            "properties": {
                "bio": string(),
                "settings": {
                    "type": "object",
                    "properties": {"theme": string(enum=["light", "dark"])},
                },
            },
        }
        create["properties"]["profile"] = profile
        update["properties"]["profile"] = copy.deepcopy(profile)
    if strict:
        create["additionalProperties"] = False
        update["additionalProperties"] = False
    return create, update


def user_schema(variant):
    if variant == "storeall":
        return {
            "type": "object",
            "properties": {
                "username": string(),
                "email": string(format="email"),
                "display_name": string(),
                "bio": string(),
            },
        }
    ro = {"readOnly": True}
    return {
        "type": "object",
        "properties": {
            "username": string(),
            "email": string(format="email"),
            "display_name": string(),
            "is_admin": {"type": "boolean", **ro},
            "role": string(enum=["user", "admin"], **ro),
            "credits": {"type": "integer", **ro},
            "owner": string(**ro),
            "created_at": string(format="date-time", **ro),
            "verified": {"type": "boolean", **ro},
            "profile": {
                "type": "object",
                "properties": {
                    "bio": string(),
                    "settings": {
                        "type": "object",
                        "properties": {
                            "theme": string(),
                            "role": string(enum=["user", "admin"], **ro),
                        },
                    },
                },
            },
        },
    }


def json_content(ref):
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def reply(description, ref=None):
    out = {"description": description}
    if ref:
        out["content"] = json_content(ref)
    return out


def spec(variant):
    create, update = request_schemas(variant)
    username_param = {
        "name": "username",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    paths = {
        "/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "List users",
                "security": [],
                "responses": {"200": reply("All users", "UserList")},
            },
            "post": {
                "operationId": "createUser",
                "summary": "Create a user",
                "security": [],
                "requestBody": {"required": True, "content": json_content("UserCreate")},
                "responses": {
                    "201": reply("Created", "Created"),
                    "400": reply("Invalid body", "Error"),
                    "409": reply("Username taken", "Error"),
                },
            },
        },
        "/users/{username}": {
            "parameters": [username_param],
            "get": {
                "operationId": "getUser",
                "summary": "Read a user",
                "security": [],
                "responses": {
                    "200": reply("The stored user", "User"),
                    "404": reply("No such user", "Error"),
                },
            },
            "patch": {
                "operationId": "updateUser",
                "summary": "Update some of a user's fields",
                "security": [],
                "requestBody": {"required": True, "content": json_content("UserUpdate")},
                "responses": {
                    "200": reply("Updated", "Updated"),
                    "400": reply("Invalid body", "Error"),
                    "404": reply("No such user", "Error"),
                },
            },
            "delete": {
                "operationId": "deleteUser",
                "summary": "Delete a user",
                "security": [],
                "responses": {
                    "204": reply("Deleted"),
                    "404": reply("No such user", "Error"),
                },
            },
        },
    }
    schemas = {
        "User": user_schema(variant),
        "UserList": {
            "type": "object",
            "properties": {
                "users": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}
            },
        },
        "UserCreate": create,
        "UserUpdate": update,
        "Created": {
            "type": "object",
            "properties": {"status": string(), "username": string()},
        },
        "Updated": {
            "type": "object",
            "properties": {
                "status": string(),
                "username": string(),
                "updated": {"type": "object"},
            },
        },
        "Error": {"type": "object", "properties": {"error": string()}},
    }
    components = {"schemas": schemas}
    if variant != "storeall":
        paths["/admin/stats"] = {
            "get": {
                "operationId": "adminStats",
                "summary": "Site statistics, for administrators only",
                "security": [{"xUser": []}],
                # The scheme says how callers are named; the parameter says
                # it again where clients (and scanners) look for inputs.
                "parameters": [
                    {
                        "name": "X-User",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": reply("Statistics", "Stats"),
                    "403": reply("Caller is not an administrator", "Error"),
                },
            }
        }
        # The caller's own record, named by X-User: what an API whose
        # callers are named by their credentials offers.
        paths["/me"] = {
            "get": {
                "operationId": "getMe",
                "summary": "Read the caller's own user",
                "security": [{"xUser": []}],
                "responses": {
                    "200": reply("The caller's stored user", "User"),
                    "401": reply("No such caller", "Error"),
                },
            },
            "patch": {
                "operationId": "updateMe",
                "summary": "Update some of the caller's own fields",
                "security": [{"xUser": []}],
                "requestBody": {"required": True, "content": json_content("UserUpdate")},
                "responses": {
                    "200": reply("Updated", "Updated"),
                    "400": reply("Invalid body", "Error"),
                    "401": reply("No such caller", "Error"),
                },
            },
        }
        schemas["Stats"] = {
            "type": "object",
            "properties": {"users": {"type": "integer"}, "secret": string()},
        }
        components["securitySchemes"] = {
            "xUser": {
                "type": "apiKey",
                "in": "header",
                "name": "X-User",
                "description": "The caller's username; the testbed's whole identity scheme.",
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"Merlon testbed: Flask + DynamoDB users ({variant})",
            "version": "1.0.0",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": components,
    }
