#!/bin/sh
# Installs what Merlon's Express multi-user testbed needs on a Debian
# machine: Node.js and npm when missing, then express and jsonwebtoken,
# pinned in package-lock.json. Safe to run again: it installs only what is
# missing.
set -eu

dir=$(cd "$(dirname "$0")" && pwd)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi

missing=""
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
if [ -f "$dir/node_modules/express/package.json" ] &&
	[ -f "$dir/node_modules/jsonwebtoken/package.json" ] &&
	[ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
	exit 0
fi
echo "testbed: npm ci in $dir"
cd "$dir"
# Scripts stay off: no package in the lockfile has an install script
# (none is marked hasInstallScript), and none needs a native build.
npm ci --no-audit --no-fund --ignore-scripts
