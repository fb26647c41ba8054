"""Merlon's injection testbed: a small Flask API whose endpoints paste
input into SQL (SQLite and, with DATABASE_URL, PostgreSQL), into a
Mongo-style query, into a shell command and into a Jinja2 template.

MERLON_VARIANT picks the code:
  vulnerable  string concatenation everywhere
  fixed       parameterised queries, strict types, argument lists, templates
              that take input as variables
  jitter      fixed, but every answer is delayed by a random time, with rare
              long spikes, and carries a random request ID
"""

import os
import random
import re
import sqlite3
import subprocess
import threading
import time
import uuid

from flask import Flask, jsonify, render_template_string, request

from openapi import spec

VARIANT = os.environ.get("MERLON_VARIANT", "vulnerable")
if VARIANT not in ("vulnerable", "fixed", "jitter"):
    raise SystemExit(f"unknown MERLON_VARIANT {VARIANT!r}")
VULNERABLE = VARIANT == "vulnerable"
DATABASE_URL = os.environ.get("DATABASE_URL", "")

app = Flask(__name__)

ITEMS = [(1, "apple"), (2, "banana"), (3, "cherry")]
USERS = [{"username": "alice", "password": "correct-horse"}, {"username": "bob", "password": "battery-staple"}]
PRODUCTS = [{"name": "apple", "price": 3}, {"name": "banana", "price": 2}]

_local = threading.local()


def sqlite_db():
    if getattr(_local, "sqlite", None) is None:
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        db.executemany("INSERT INTO items VALUES (?, ?)", ITEMS)
        _local.sqlite = db
    return _local.sqlite


def pg_db():
    import psycopg2

    if getattr(_local, "pg", None) is None:
        conn = psycopg2.connect(DATABASE_URL)
        conn.autocommit = True
        _local.pg = conn
    return _local.pg


def pg_setup():
    cur = pg_db().cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    cur.execute("INSERT INTO items VALUES (1, 'apple'), (2, 'banana'), (3, 'cherry') ON CONFLICT DO NOTHING")


@app.after_request
def jitter(resp):
    if VARIANT == "jitter":
        delay = random.uniform(0, 0.15)
        if random.random() < 0.05:
            delay += random.uniform(0.8, 1.4)
        time.sleep(delay)
    return resp


def answer(obj, status=200):
    if VARIANT == "jitter" and isinstance(obj, dict):
        obj = dict(obj, request_id=str(uuid.uuid4()))
    return jsonify(obj), status


# --- SQL -------------------------------------------------------------------


def run_sql(store, sql, params=()):
    """Runs a read-only query; errors are passed on, as careless APIs do."""
    if store == "sqlite":
        return sqlite_db().execute(sql, params).fetchall()
    cur = pg_db().cursor()
    cur.execute(sql, params)
    return cur.fetchall()


def lookup(store, by, value):
    """Finds an item by name or id, the vulnerable way or the fixed one."""
    try:
        if VULNERABLE:
            if by == "name":
                rows = run_sql(store, f"SELECT id, name FROM items WHERE name = '{value}'")
            else:
                rows = run_sql(store, f"SELECT id, name FROM items WHERE id = {value}")
        else:
            if by == "id":
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    return answer({"error": "id must be an integer"}, 400)
            elif not isinstance(value, str):
                return answer({"error": "name must be a string"}, 400)
            ph = "?" if store == "sqlite" else "%s"
            rows = run_sql(store, f"SELECT id, name FROM items WHERE {by} = {ph}", (value,))
    except Exception as e:  # noqa: BLE001 — the point is to leak it
        if store == "postgresql":
            pg_db().rollback() if not pg_db().autocommit else None
        return answer({"error": f"{type(e).__module__}.{type(e).__name__}: {e}"}, 500)
    if not rows:
        return answer({"error": "not found"}, 404)
    return answer({"id": rows[0][0], "name": rows[0][1]})


def sql_routes(store, prefix):
    def by_name(name):
        return lookup(store, "name", name)

    def by_id(item_id):
        return lookup(store, "id", item_id)

    def search():
        if "name" in request.args:
            return lookup(store, "name", request.args["name"])
        return lookup(store, "id", request.args.get("id", ""))

    def find():
        body = request.get_json(silent=True) or {}
        if "name" in body:
            return lookup(store, "name", body["name"])
        return lookup(store, "id", body.get("id", ""))

    app.add_url_rule(f"{prefix}/items/by-name/<name>", f"{store}_by_name", by_name)
    app.add_url_rule(f"{prefix}/items/<item_id>", f"{store}_by_id", by_id)
    app.add_url_rule(f"{prefix}/items", f"{store}_search", search)
    app.add_url_rule(f"{prefix}/items/find", f"{store}_find_name", find, methods=["POST"])
    app.add_url_rule(f"{prefix}/items/find-id", f"{store}_find_id", find, methods=["POST"])


sql_routes("sqlite", "/sqlite")
if DATABASE_URL:
    sql_routes("postgresql", "/pg")


# --- NoSQL -----------------------------------------------------------------


def matches(cond, value):
    """Evaluates a Mongo-style condition: a literal or {$op: arg}."""
    if not isinstance(cond, dict):
        return cond == value
    for op, arg in cond.items():
        if op == "$ne" and not value != arg:
            return False
        if op == "$eq" and not value == arg:
            return False
        if op == "$gt" and not (type(value) is type(arg) and value > arg):
            return False
        if op == "$lt" and not (type(value) is type(arg) and value < arg):
            return False
        if op == "$regex" and not (isinstance(value, str) and re.search(arg, value)):
            return False
    return True


def find_docs(docs, query):
    return [d for d in docs if all(matches(c, d.get(k)) for k, c in query.items())]


@app.post("/mongo/login")
def mongo_login():
    body = request.get_json(silent=True) or {}
    username, password = body.get("username"), body.get("password")
    if not VULNERABLE and (not isinstance(username, str) or not isinstance(password, str)):
        return answer({"error": "username and password must be strings"}, 400)
    if find_docs(USERS, {"username": username, "password": password}):
        return answer({"token": "merlon-testbed-token"})
    return answer({"error": "invalid credentials"}, 401)


@app.get("/mongo/products")
def mongo_products():
    query = {}
    for key, value in request.args.items():
        m = re.fullmatch(r"(\w+)\[(\$\w+)\]", key)
        if m and VULNERABLE:  # a query-string parser that builds objects
            query.setdefault(m.group(1), {})[m.group(2)] = value
        elif key == "name":
            query["name"] = value
    return answer({"products": find_docs(PRODUCTS, query)})


# --- OS command ------------------------------------------------------------


@app.get("/tools/lookup")
def tools_lookup():
    host = request.args.get("host", "")
    if VULNERABLE:
        proc = subprocess.run("printf 'lookup %s\\n' " + host, shell=True, capture_output=True, text=True, timeout=9)
    else:
        if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host):
            return answer({"error": "invalid host"}, 400)
        proc = subprocess.run(["printf", "lookup %s\\n", host], capture_output=True, text=True, timeout=9)
    return answer({"output": proc.stdout + proc.stderr})


# --- Template --------------------------------------------------------------


@app.get("/greeting")
def greeting():
    name = request.args.get("name", "guest")
    try:
        if VULNERABLE:
            text = render_template_string("Hello " + name + "!")
        else:
            text = render_template_string("Hello {{ name }}!", name=name)
    except Exception:  # noqa: BLE001
        return answer({"error": "could not render"}, 500)
    return answer({"greeting": text})


@app.get("/openapi.json")
def openapi():
    return jsonify(spec(bool(DATABASE_URL)))


if __name__ == "__main__":
    if DATABASE_URL:
        pg_setup()
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")), threaded=True)
