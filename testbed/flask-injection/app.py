"""Merlon's injection testbed: a small Flask API whose endpoints paste
input into SQL (SQLite and, with DATABASE_URL, PostgreSQL), into a
Mongo-style query, into a shell command and into Jinja2 and Mako templates.

SQL injection is reachable through every kind of injection point (path,
query, header, cookie, nested JSON object and array element), in a string
and a numeric context, and behind three kinds of answer: one that passes
the database error on (error-based proof), one that only tells found from
not found (boolean proof) and one that always says the same (time-based
proof, PostgreSQL only: SQLite has no sleep). The shell runs one command
whose output comes back and one whose output does not.

MERLON_VARIANT picks the code:
  vulnerable  string concatenation everywhere
  fixed       parameterised queries, strict types, argument lists, templates
              that take input as variables
  jitter      fixed, but every answer is delayed by a random time, with rare
              spikes long enough to pass the first step of a time-based
              proof (see jitter below), and carries a random request ID
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
from mako.template import Template as MakoTemplate

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


# Merlon's time-based proof at its default 2 s delay asks, in turn, for an
# answer at least 1.6 s slower than the slowest baseline (step 1), then one
# at least 3.2 s slower that also took 1.2 s longer than the first (step 2),
# then a fast one for 0 s and a slow one again. A spike of 1.7 to 2.5 s
# passes step 1 whenever the baseline had none, and never step 2: the
# jittery twin stays silent because the delay does not scale, not because
# its spikes are too short to be noticed. Spikes are rare (1.5%) to keep the
# scan short.
JITTER_SPIKE = 0.015
JITTER_SPIKE_SECONDS = (1.7, 2.5)


@app.after_request
def jitter(resp):
    if VARIANT == "jitter":
        delay = random.uniform(0, 0.02)
        if random.random() < JITTER_SPIKE:
            delay += random.uniform(*JITTER_SPIKE_SECONDS)
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


def lookup(store, by, value, blind=False):
    """Finds an item by name or id, the vulnerable way or the fixed one.
    A blind lookup hides the database error behind a generic one."""
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
        if blind:
            return answer({"error": "internal error"}, 500)
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
        return lookup(store, "name", request.args.get("name", ""))

    def search_id():
        return lookup(store, "id", request.args.get("id", ""))

    def blind_items():
        return lookup(store, "name", request.args.get("fruit", ""), blind=True)

    def find():
        body = request.get_json(silent=True) or {}
        if "name" in body:
            return lookup(store, "name", body["name"])
        return lookup(store, "id", body.get("id", ""))

    app.add_url_rule(f"{prefix}/items/by-name/<name>", f"{store}_by_name", by_name)
    app.add_url_rule(f"{prefix}/items/<item_id>", f"{store}_by_id", by_id)
    app.add_url_rule(f"{prefix}/items", f"{store}_search", search)
    app.add_url_rule(f"{prefix}/items/by-id", f"{store}_search_id", search_id)
    app.add_url_rule(f"{prefix}/blind/items", f"{store}_blind_items", blind_items)
    app.add_url_rule(f"{prefix}/items/find", f"{store}_find_name", find, methods=["POST"])
    app.add_url_rule(f"{prefix}/items/find-id", f"{store}_find_id", find, methods=["POST"])


sql_routes("sqlite", "/sqlite")
if DATABASE_URL:
    sql_routes("postgresql", "/pg")


# The other kinds of injection point, on SQLite: the same lookup reached
# through a header, a cookie, a nested object and an array of objects.


@app.get("/sqlite/items/current")
def sqlite_by_header():
    return lookup("sqlite", "name", request.headers.get("X-Item-Name", ""))


@app.get("/sqlite/items/saved")
def sqlite_by_cookie():
    return lookup("sqlite", "name", request.cookies.get("item", ""))


@app.post("/sqlite/items/query")
def sqlite_by_filter():
    body = request.get_json(silent=True) or {}
    return lookup("sqlite", "name", (body.get("filter") or {}).get("name", ""))


@app.post("/sqlite/items/batch")
def sqlite_by_batch():
    body = request.get_json(silent=True) or {}
    items = body.get("items") or [{}]
    if not isinstance(items, list) or not isinstance(items[0], dict):
        return answer({"error": "items must be a list of objects"}, 400)
    return lookup("sqlite", "name", items[0].get("name", ""))


@app.get("/pg/blind/audit")
def pg_audit():
    """Records a lookup and answers the same whatever happened: only the
    time the query takes can tell."""
    name = request.args.get("fruit", "")
    try:
        if VULNERABLE:
            run_sql("postgresql", f"SELECT count(*) FROM items WHERE name = '{name}'")
        else:
            run_sql("postgresql", "SELECT count(*) FROM items WHERE name = %s", (name,))
    except Exception:  # noqa: BLE001 — swallowed, as a fire-and-forget audit would
        pass
    return answer({"recorded": True})


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


@app.get("/tools/ping")
def tools_ping():
    """Runs a command whose output never comes back: only time tells."""
    host = request.args.get("host", "")
    if VULNERABLE:
        subprocess.run("true " + host, shell=True, capture_output=True, timeout=9)
    else:
        if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host):
            return answer({"error": "invalid host"}, 400)
        subprocess.run(["true", host], capture_output=True, timeout=9)
    return answer({"status": "queued"})


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


@app.get("/greeting/mako")
def greeting_mako():
    name = request.args.get("name", "guest")
    try:
        if VULNERABLE:
            text = MakoTemplate("Hello " + name + "!").render()
        else:
            text = MakoTemplate("Hello ${name | h}!").render(name=name)
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
