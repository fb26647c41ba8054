"""Mass-assignment-safe create and update of users in Flask with DynamoDB.

This file is the fixed variant of Merlon's Flask + DynamoDB testbed, and it is
also the remediation Merlon quotes for mass assignment (CWE-915) on that
stack, so it is written to be copied: register the blueprint and put a boto3
Table (key: username) in app.config["USERS_TABLE"].

    app.register_blueprint(users)
    app.config["USERS_TABLE"] = boto3.resource("dynamodb").Table("users")

Three rules keep clients from writing what the server owns:

1. Each operation has its own allowlist. Only listed fields are copied from
   the request; anything else (is_admin, role, credits, ...) is dropped.
2. Every copied field is checked for type, length and format, and a bad one
   gets a 400 instead of reaching DynamoDB, which has no schema to stop it.
3. Privileged attributes are set by the server when the item is created and
   are never taken from the request.

The update builds ExpressionAttributeNames ({"#f0": "email"}) and
ExpressionAttributeValues ({":v0": "a@example.com"}) as two separate dicts, so
that field names never travel as values, and reserved words such as "name" or
"status" work as attribute names.
"""

import re
from datetime import datetime, timezone

from botocore.exceptions import ClientError
from flask import Blueprint, current_app, jsonify, request

users = Blueprint("users", __name__)

# What a client may send, per operation. The key attribute (username) can be
# chosen at creation but never updated: DynamoDB refuses to change a key, and
# a rename is a different operation with its own authorization.
CREATE_FIELDS = {"username", "email", "display_name"}
REQUIRED_CREATE_FIELDS = {"username", "email"}
UPDATE_FIELDS = {"email", "display_name"}

MAX_LENGTHS = {"username": 64, "email": 254, "display_name": 100}
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def users_table():
    return current_app.config["USERS_TABLE"]


def json_object():
    """Return the request's JSON object, or None when the body is not one."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def allowlisted(payload, allowed):
    """Copy only allowed fields. Unknown fields are dropped without an error,
    as most APIs do; what matters is that they are never stored."""
    return {name: value for name, value in payload.items() if name in allowed}


def validation_error(fields):
    """Return why fields are invalid, or None when they are all valid."""
    for name, value in sorted(fields.items()):
        if not isinstance(value, str):
            return f"{name} must be a string"
        if not 0 < len(value) <= MAX_LENGTHS[name]:
            return f"{name} must be 1 to {MAX_LENGTHS[name]} characters"
    if "username" in fields and not USERNAME_RE.fullmatch(fields["username"]):
        return "username may contain only letters, digits, '.', '_' and '-'"
    if "email" in fields and not EMAIL_RE.fullmatch(fields["email"]):
        return "email is not a valid address"
    return None


def server_owned_attributes(username):
    """The attributes only the server writes. Authorization reads them, so a
    client that could set them could make itself an administrator."""
    return {
        "is_admin": False,
        "role": "user",
        "credits": 0,
        "owner": username,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "verified": False,
        "profile": {"bio": "", "settings": {"theme": "light", "role": "user"}},
    }


def update_expression(fields):
    """Build a SET expression for fields, with one name placeholder and one
    value placeholder per field, in two separate dicts."""
    parts, names, values = [], {}, {}
    for i, (name, value) in enumerate(sorted(fields.items())):
        names[f"#f{i}"] = name
        values[f":v{i}"] = value
        parts.append(f"#f{i} = :v{i}")
    return "SET " + ", ".join(parts), names, values


def error(message, status):
    return jsonify(error=message), status


def is_condition_failure(err):
    return err.response["Error"]["Code"] == "ConditionalCheckFailedException"


@users.route("/users", methods=["POST"])
def create_user():
    body = json_object()
    if body is None:
        return error("body must be a JSON object", 400)
    fields = allowlisted(body, CREATE_FIELDS)
    missing = sorted(REQUIRED_CREATE_FIELDS - fields.keys())
    if missing:
        return error("missing required fields: " + ", ".join(missing), 400)
    problem = validation_error(fields)
    if problem:
        return error(problem, 400)

    item = {"display_name": fields["username"], **fields}
    # Server-owned attributes go in last, so nothing from the request can
    # replace them even if an allowlist grows by mistake.
    item.update(server_owned_attributes(fields["username"]))
    try:
        # Creating must not silently replace someone else's item.
        users_table().put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(username)",
        )
    except ClientError as err:
        if is_condition_failure(err):
            return error("user already exists", 409)
        raise
    return jsonify(status="created", username=item["username"]), 201


@users.route("/users/<username>", methods=["PATCH"])
def update_user(username):
    body = json_object()
    if body is None:
        return error("body must be a JSON object", 400)
    fields = allowlisted(body, UPDATE_FIELDS)
    if not fields:
        return error("no updatable fields; allowed: email, display_name", 400)
    problem = validation_error(fields)
    if problem:
        return error(problem, 400)

    expression, names, values = update_expression(fields)
    names["#key"] = "username"
    try:
        response = users_table().update_item(
            Key={"username": username},
            UpdateExpression=expression,
            # Update only users that exist; update_item would create one.
            ConditionExpression="attribute_exists(#key)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as err:
        if is_condition_failure(err):
            return error("user not found", 404)
        raise
    return jsonify(
        status="updated", username=username, updated=response.get("Attributes", {})
    )
