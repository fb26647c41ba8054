#!/usr/bin/env bash
# merlon-scan.sh is the scan step of Merlon's GitHub Action (action.yml).
# It reads the action's inputs from INPUT_* variables, runs one scan that
# writes the JSON report, then derives everything else from that report:
# the Markdown job summary, the step outputs and, when asked, SARIF and one
# more format. It exits with merlon's own exit code, so the job fails on
# findings (1), bad inputs (2) and a scan that could not run (3) alike,
# and the log says which.
#
# Environment (as GitHub sets it): GITHUB_WORKSPACE, RUNNER_TEMP,
# GITHUB_OUTPUT, GITHUB_STEP_SUMMARY; MERLON_BIN is the binary to run
# (default: merlon on PATH). It needs bash and jq, which every
# GitHub-hosted runner has.
set -uo pipefail

merlon=${MERLON_BIN:-merlon}
cd "${GITHUB_WORKSPACE:-.}" || exit 3
tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
json="$tmp/merlon-report.json"

fail() { # fail CODE MESSAGE
	echo "::error title=merlon::$2"
	exit "$1"
}

[ -n "${INPUT_URL:-}" ] || fail 2 "the url input is required"
command -v jq >/dev/null 2>&1 || fail 3 "jq is required to read the report"

args=(scan "$INPUT_URL" --format json --output "$json")
[ -n "${INPUT_SPEC:-}" ] && args+=(--spec "$INPUT_SPEC")
case "${INPUT_ACTIVE:-false}" in
true | True | TRUE) args+=(--active) ;;
false | False | FALSE | "") ;;
*) fail 2 "the active input must be true or false, got '${INPUT_ACTIVE}'" ;;
esac
[ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
[ -n "${INPUT_SUPPRESSIONS:-}" ] && args+=(--suppressions "$INPUT_SUPPRESSIONS")
[ -n "${INPUT_RULES:-}" ] && args+=(--rules "$INPUT_RULES")

# headers: one 'Name: value' per line, usually from a secret. Each value is
# masked in the log as well, in case it was built from several secrets.
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%$'\r'}
	[ -n "${line//[[:space:]]/}" ] || continue
	value=${line#*:}
	value=${value#"${value%%[![:space:]]*}"}
	[ -n "$value" ] && echo "::add-mask::$value"
	args+=(-H "$line")
done <<<"${INPUT_HEADERS:-}"

# args: extra flags, split on whitespace, never glob-expanded.
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
	set -f
	read -r -a extra <<<"$INPUT_ARGS"
	set +f
fi

rm -f "$json"
"$merlon" "${args[@]}" ${extra[@]+"${extra[@]}"}
code=$?

out=${GITHUB_OUTPUT:-/dev/null}
echo "exit-code=$code" >>"$out"
if [ ! -s "$json" ]; then
	fail "$code" "merlon did not produce a report (exit code $code); see the log above"
fi

score=$(jq -r '.score.overall' "$json") || fail 3 "cannot read $json"
grade=$(jq -r '.score.grade' "$json")
count=$(jq '[.findings[] | select(.suppressed == null)] | length' "$json")
{
	echo "score=$score"
	echo "grade=$grade"
	echo "findings-count=$count"
	echo "report=$json"
} >>"$out"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	"$merlon" report "$json" --format markdown >>"$GITHUB_STEP_SUMMARY" ||
		echo "::warning title=merlon::could not write the job summary"
fi
if [ -n "${INPUT_SARIF_FILE:-}" ]; then
	"$merlon" report "$json" --format sarif --output "$INPUT_SARIF_FILE" ||
		fail 3 "could not write SARIF to $INPUT_SARIF_FILE"
	echo "sarif-file=$INPUT_SARIF_FILE" >>"$out"
fi
if [ -n "${INPUT_FORMAT:-}" ]; then
	dest=${INPUT_OUTPUT:-merlon-report.${INPUT_FORMAT}}
	"$merlon" report "$json" --format "$INPUT_FORMAT" --output "$dest" ||
		fail 2 "could not write the $INPUT_FORMAT report to $dest"
	echo "output=$dest" >>"$out"
fi

echo "merlon: grade $grade ($score/100), $count findings; exit code $code"
exit "$code"
