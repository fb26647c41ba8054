#!/bin/sh
# Installs what Merlon's injection testbed needs on a Debian machine: Flask
# (with Jinja2), Mako and psycopg2 for the system Python (/usr/bin/python3),
# and PostgreSQL (any major; the harness runs the newest) for the
# PostgreSQL-backed endpoints. Safe to run again: it installs only what is
# missing.
set -eu

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi

missing=""
/usr/bin/python3 -c 'import flask' >/dev/null 2>&1 || missing="$missing python3-flask"
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || missing="$missing python3-psycopg2"
/usr/bin/python3 -c 'import mako' >/dev/null 2>&1 || missing="$missing python3-mako"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"

if [ -n "$missing" ]; then
	echo "testbed: installing$missing"
	$sudo apt-get update
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
fi
