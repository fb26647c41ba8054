"""The write routes of the testbed's flawed variants.

Each variant differs from the fixed one (fixed_routes.py) in one way, so that
a test of Merlon's mass-assignment check can tell exactly which flaw it saw.
The validation helpers are shared with fixed_routes so that, where a variant
is meant to be safe, it is safe in the same way.
"""

from botocore.exceptions import ClientError
from flask import jsonify, request

import fixed_routes as fixed

VARIANTS = ("vulnerable", "fixed", "nested", "keychange", "echo", "storeall")


def register(app, variant):
    """Add the variant's POST /users and PATCH /users/<username> to app."""
    if variant == "fixed":
        app.register_blueprint(fixed.users)
        return
    create, update = {
        "vulnerable": (vulnerable_create, forward_all_update),
        "nested": (nested_create, nested_update),
        "keychange": (fixed.create_user, keychange_update),
        "echo": (echo_create, echo_update),
        "storeall": (storeall_create, forward_all_update),
    }[variant]
    app.add_url_rule("/users", "create_user", create, methods=["POST"])
    app.add_url_rule("/users/<username>", "update_user", update, methods=["PATCH"])


def table():
    return fixed.users_table()


def error(message, status):
    return jsonify(error=message), status


# vulnerable: the request body becomes the item.


def vulnerable_create():
    data = request.get_json()
    if not isinstance(data, dict):
        return error("body must be a JSON object", 400)
    item = fixed.server_owned_attributes(data.get("username"))
    # The flaw: the client's fields are laid over the server's, so a client
    # sending {"is_admin": true} is stored as an administrator.
    item.update(data)
    table().put_item(Item=item)
    return jsonify(status="created", username=item.get("username")), 201


def forward_all_update(username):
    """Every key of the body becomes a SET clause. DynamoDB itself refuses a
    change of the key attribute, so that one answers 400."""
    data = request.get_json()
    if not isinstance(data, dict) or not data:
        return error("body must be a non-empty JSON object", 400)
    expression, names, values = fixed.update_expression(data)
    names["#key"] = "username"
    try:
        response = table().update_item(
            Key={"username": username},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(#key)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as err:
        if fixed.is_condition_failure(err):
            return error("user not found", 404)
        raise
    return jsonify(
        status="updated", username=username, updated=response.get("Attributes", {})
    )


# nested: allowlisted at the top level, but "profile" is merged in whole.


def deep_merge(into, patch):
    """Merge patch into into, recursing into objects found on both sides."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        else:
            into[key] = value
    return into


def nested_create():
    body = fixed.json_object()
    if body is None:
        return error("body must be a JSON object", 400)
    fields = fixed.allowlisted(body, fixed.CREATE_FIELDS)
    missing = sorted(fixed.REQUIRED_CREATE_FIELDS - fields.keys())
    if missing:
        return error("missing required fields: " + ", ".join(missing), 400)
    problem = fixed.validation_error(fields)
    if problem:
        return error(problem, 400)
    item = {"display_name": fields["username"], **fields}
    item.update(fixed.server_owned_attributes(fields["username"]))
    profile = body.get("profile")
    if profile is not None and not isinstance(profile, dict):
        return error("profile must be an object", 400)
    # The flaw: the client's profile is merged into the server's, so
    # profile.settings.role is as writable as profile.bio.
    deep_merge(item["profile"], profile or {})
    try:
        table().put_item(
            Item=item, ConditionExpression="attribute_not_exists(username)"
        )
    except ClientError as err:
        if fixed.is_condition_failure(err):
            return error("user already exists", 409)
        raise
    return jsonify(status="created", username=item["username"]), 201


def nested_update(username):
    body = fixed.json_object()
    if body is None:
        return error("body must be a JSON object", 400)
    fields = fixed.allowlisted(body, fixed.UPDATE_FIELDS)
    problem = fixed.validation_error(fields)
    if problem:
        return error(problem, 400)
    profile = body.get("profile")
    if profile is not None and not isinstance(profile, dict):
        return error("profile must be an object", 400)
    if not fields and profile is None:
        return error("no updatable fields; allowed: email, display_name, profile", 400)
    current = table().get_item(Key={"username": username}).get("Item")
    if current is None:
        return error("user not found", 404)
    if profile is not None:
        fields["profile"] = deep_merge(current.get("profile") or {}, profile)
    expression, names, values = fixed.update_expression(fields)
    response = table().update_item(
        Key={"username": username},
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="UPDATED_NEW",
    )
    return jsonify(
        status="updated", username=username, updated=response.get("Attributes", {})
    )


# keychange: read-modify-write with put_item, and an allowlist that is too wide.

KEYCHANGE_UPDATE_FIELDS = {"email", "display_name", "username", "owner"}


def keychange_update(username):
    body = fixed.json_object()
    if body is None:
        return error("body must be a JSON object", 400)
    fields = fixed.allowlisted(body, KEYCHANGE_UPDATE_FIELDS)
    owner = fields.pop("owner", None)
    problem = fixed.validation_error(fields)
    if owner is not None and fixed.validation_error({"username": owner}):
        problem = problem or "owner must be a valid username"
    if problem:
        return error(problem, 400)
    if not fields and owner is None:
        return error("no updatable fields", 400)
    current = table().get_item(Key={"username": username}).get("Item")
    if current is None:
        return error("user not found", 404)
    # The flaw: the merged item is written back with put_item, which is not
    # bound to the old key, so a body naming a new username renames the user
    # (overwriting any item already there) and owner passes through.
    merged = {**current, **fields}
    if owner is not None:
        merged["owner"] = owner
    table().put_item(Item=merged)
    if merged["username"] != username:
        table().delete_item(Key={"username": username})
    return jsonify(status="updated", username=merged["username"])


# echo: stores safely, but answers with what the client sent.


def echo_create():
    body = fixed.json_object()
    result = fixed.create_user()
    _, status = result if isinstance(result, tuple) else (result, 200)
    if status != 201:
        return result
    stored = table().get_item(Key={"username": body["username"]}).get("Item", {})
    # The response lays the request over the stored item: extra fields show
    # up here though they were never written.
    return jsonify({**stored, **body, "status": "created"}), 201


def echo_update(username):
    body = fixed.json_object()
    result = fixed.update_user(username)
    _, status = result if isinstance(result, tuple) else (result, 200)
    if status != 200:
        return result
    stored = table().get_item(Key={"username": username}).get("Item", {})
    return jsonify({**stored, **body, "status": "updated"})


# storeall: stores unknown attributes, but owns nothing worth protecting.


def storeall_create():
    data = request.get_json()
    if not isinstance(data, dict):
        return error("body must be a JSON object", 400)
    item = {"bio": "", **data}
    try:
        table().put_item(
            Item=item, ConditionExpression="attribute_not_exists(username)"
        )
    except ClientError as err:
        if fixed.is_condition_failure(err):
            return error("user already exists", 409)
        raise
    return jsonify(status="created", username=item.get("username")), 201
