#!/bin/sh
# Installs what Merlon's Flask + DynamoDB testbed needs on a Debian machine:
# Flask and boto3 for the system Python (/usr/bin/python3), Node.js and npm,
# and the dynalite DynamoDB emulator pinned in package-lock.json.
# Safe to run again: it installs only what is missing, and runs apt-get update
# at most once.
set -eu

dir=$(cd "$(dirname "$0")" && pwd)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi

missing=""
if ! /usr/bin/python3 -c 'import flask' >/dev/null 2>&1; then
	missing="$missing python3-flask"
fi
if ! /usr/bin/python3 -c 'import boto3' >/dev/null 2>&1; then
	missing="$missing python3-boto3"
fi
# A working node and npm may come from elsewhere than Debian; keep them.
if ! command -v node >/dev/null 2>&1; then
	missing="$missing nodejs"
fi
if ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi

if [ -n "$missing" ]; then
	echo "testbed: installing$missing"
	$sudo apt-get update
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y $missing
fi

# npm rewrites node_modules/.package-lock.json on every install, so a tree
# newer than the lockfile is already up to date.
if [ -x "$dir/node_modules/.bin/dynalite" ] &&
	[ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
	exit 0
fi
echo "testbed: npm ci in $dir"
cd "$dir"
# Scripts stay off: the in-memory store needs no native build.
npm ci --no-audit --no-fund --ignore-scripts
