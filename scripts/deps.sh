#!/bin/sh
# Installs every real server and tool Merlon's tests use, on a Debian
# machine, and only what is missing: headless Chromium (HTML report tests),
# poppler-utils (pdftotext, PDF report tests), and the Flask + DynamoDB
# testbed (python3-flask, python3-boto3, nodejs, npm, dynalite), the Express
# multi-user testbed (express, jsonwebtoken), jq (the GitHub Action script),
# and postgresql (the store's integration tests start a throwaway cluster).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v pdftotext >/dev/null 2>&1 || missing="$missing poppler-utils"
command -v jq >/dev/null 2>&1 || missing="$missing jq"
# internal/store/pgtest runs the newest /usr/lib/postgresql/<major>/bin it
# finds; any major will do.
pg_initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
[ -n "$pg_initdb" ] && [ -x "$pg_initdb" ] || missing="$missing postgresql"

if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	$sudo apt-get update
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
fi

sh "$root/testbed/flask-dynamodb/install.sh"
sh "$root/testbed/express-users/install.sh"

sh "$root/testbed/flask-injection/install.sh"
