"""Merlon's Flask + DynamoDB testbed: one user API in several variants.

Run it against an in-memory dynalite (see README.md):

    MERLON_VARIANT=vulnerable PORT=5000 DYNAMO_ENDPOINT=http://127.0.0.1:4567 \
        /usr/bin/python3 app.py

MERLON_VARIANT is one of variants.VARIANTS. MERLON_NO_SPEC=1 hides
/openapi.json and makes GET / answer JSON links instead, as an API without
a published spec does. The routes every variant shares
live here; the write routes that differ live in fixed_routes.py (the fixed
variant, and Merlon's quoted remediation) and variants.py (the flawed ones).

Identity is deliberately simple: the header "X-User: <username>" names the
caller, and GET /admin/stats trusts the caller's STORED is_admin, role and
profile.settings.role attributes. That is what makes mass assignment of those
attributes a privilege escalation.
"""

import decimal
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

import openapi
import variants

TABLE_NAME = "users"
ADMIN_SECRET = "merlon-testbed-admin-secret"


class DynamoJSONProvider(DefaultJSONProvider):
    """Reads JSON numbers as Decimal, the only number type boto3 stores, and
    writes DynamoDB's Decimals back as plain JSON numbers."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_float", decimal.Decimal)
        return super().loads(s, **kwargs)

    @staticmethod
    def default(o):
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return DefaultJSONProvider.default(o)


def connect(endpoint):
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="merlon-testbed",
        aws_secret_access_key="merlon-testbed",
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}),
    )
    return dynamodb


def ensure_table(dynamodb, timeout=15.0):
    """Create the users table unless it exists, and wait until it is ACTIVE.
    Retries while the emulator is still starting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            try:
                status = dynamodb.meta.client.describe_table(TableName=TABLE_NAME)[
                    "Table"
                ]["TableStatus"]
            except ClientError as err:
                if err.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                dynamodb.create_table(
                    TableName=TABLE_NAME,
                    KeySchema=[{"AttributeName": "username", "KeyType": "HASH"}],
                    AttributeDefinitions=[
                        {"AttributeName": "username", "AttributeType": "S"}
                    ],
                    BillingMode="PAY_PER_REQUEST",
                )
                status = "CREATING"
            if status == "ACTIVE":
                return dynamodb.Table(TABLE_NAME)
        except (EndpointConnectionError, ClientError) as err:
            if time.monotonic() > deadline:
                raise RuntimeError(f"dynamodb table {TABLE_NAME}: {err}") from err
        if time.monotonic() > deadline:
            raise RuntimeError(f"dynamodb table {TABLE_NAME} never became ACTIVE")
        time.sleep(0.1)


def is_admin(user):
    settings = (user.get("profile") or {}).get("settings") or {}
    return (
        user.get("is_admin") is True
        or user.get("role") == "admin"
        or settings.get("role") == "admin"
    )


def scan_all(table, **kwargs):
    items, start = [], None
    while True:
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = table.scan(**kwargs)
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def create_app(variant, table, no_spec=False):
    if variant not in variants.VARIANTS:
        raise ValueError(
            f"unknown MERLON_VARIANT {variant!r}; want one of {', '.join(variants.VARIANTS)}"
        )
    app = Flask(__name__)
    app.json = DynamoJSONProvider(app)
    app.config["USERS_TABLE"] = table
    app.config["MERLON_VARIANT"] = variant
    spec = openapi.spec(variant)

    @app.errorhandler(HTTPException)
    def http_error(err):
        return jsonify(error=err.description), err.code

    @app.errorhandler(ClientError)
    def dynamo_error(err):
        code = err.response["Error"]["Code"]
        message = err.response["Error"].get("Message", code)
        if code == "ValidationException":
            return jsonify(error=message), 400
        if code == "ConditionalCheckFailedException":
            return jsonify(error=message), 409
        return jsonify(error=f"{code}: {message}"), 500

    if no_spec:
        # Like most real APIs: no published spec, and a root that links to
        # the collections, which is all Merlon's discovery has to go on.
        @app.get("/")
        def index():
            links = {"users": "/users"}
            if variant != "storeall":
                links["admin"] = "/admin/stats"
            return jsonify(links)

    else:

        @app.get("/openapi.json")
        def openapi_json():
            return jsonify(spec)

    @app.get("/users")
    def list_users():
        items = scan_all(table)
        items.sort(key=lambda item: str(item.get("username")))
        return jsonify(users=items)

    @app.get("/users/<username>")
    def get_user(username):
        item = table.get_item(Key={"username": username}).get("Item")
        if item is None:
            return jsonify(error="user not found"), 404
        return jsonify(item)

    @app.delete("/users/<username>")
    def delete_user(username):
        try:
            table.delete_item(
                Key={"username": username},
                ConditionExpression="attribute_exists(username)",
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return jsonify(error="user not found"), 404
            raise
        return "", 204

    if variant != "storeall":

        @app.get("/admin/stats")
        def admin_stats():
            caller = request.headers.get("X-User", "")
            user = None
            if caller:
                user = table.get_item(Key={"username": caller}).get("Item")
            if user is None or not is_admin(user):
                return jsonify(error="admin only"), 403
            count = len(scan_all(table, ProjectionExpression="username"))
            return jsonify(users=count, secret=ADMIN_SECRET)

    variants.register(app, variant)

    if variant != "storeall":
        # /me is the caller's own record, updated by the variant's own
        # update route: the same write handling, reached through the
        # caller's identity instead of a path parameter.
        def caller_item():
            caller = request.headers.get("X-User", "")
            if not caller:
                return None
            return table.get_item(Key={"username": caller}).get("Item")

        update_view = next(
            app.view_functions[rule.endpoint]
            for rule in app.url_map.iter_rules()
            if rule.rule == "/users/<username>" and "PATCH" in rule.methods
        )

        @app.get("/me")
        def get_me():
            item = caller_item()
            if item is None:
                return jsonify(error="no such caller"), 401
            return jsonify(item)

        @app.patch("/me")
        def update_me():
            item = caller_item()
            if item is None:
                return jsonify(error="no such caller"), 401
            return update_view(username=item["username"])

    return app


def main():
    variant = os.environ.get("MERLON_VARIANT", "vulnerable")
    port = int(os.environ.get("PORT", "5000"))
    endpoint = os.environ.get("DYNAMO_ENDPOINT", "http://127.0.0.1:4567")
    try:
        table = ensure_table(connect(endpoint))
        app = create_app(variant, table, no_spec=os.environ.get("MERLON_NO_SPEC") == "1")
    except (RuntimeError, ValueError) as err:
        print(f"merlon testbed: {err}", file=sys.stderr)
        return 2
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(
        f"merlon testbed {variant} listening on http://127.0.0.1:{server.port}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
