#!/usr/bin/env bash
# The HTTP API with curl, against `npm start` (= `mario up` on this repository's mario.config.ts:
# pipelines example-one and hash-and-clean, and each function of functions/ as its own pipeline).
#
#   npm start                                          # in another terminal
#   bash examples/curl.sh                              # http://127.0.0.1:8080
#   MARIO_URL=http://127.0.0.1:9090 bash examples/curl.sh
#   MARIO_TOKEN=s3cret bash examples/curl.sh           # when mario runs with --token / MARIO_TOKEN
#
# Each request checks its status code: the script stops (exit 1) at the first unexpected answer.
# JSON fields are read with node (already installed for mario); `jq -r .id` does the same.
set -euo pipefail

URL="${MARIO_URL:-http://127.0.0.1:8080}"
URL="${URL%/}"
HEADERS="$(mktemp)"
trap 'rm -f "$HEADERS"' EXIT

# call <expected status> <curl arguments…>: prints the answer's body; its headers are left in
# $HEADERS. The expected status is a shell pattern (202, or 20[02] for either 200 or 202); the
# script stops when the answer's status does not match.
call() {
  local expected="$1" response status
  shift
  if [ -n "${MARIO_TOKEN:-}" ]; then set -- -H "authorization: Bearer $MARIO_TOKEN" "$@"; fi
  response="$(curl -sS -D "$HEADERS" -w '\n%{http_code}' "$@")"
  status="${response##*$'\n'}"
  # shellcheck disable=SC2254 # $expected is a pattern on purpose
  case "$status" in
    $expected) printf '%s\n' "${response%$'\n'*}" ;;
    *) echo "expected HTTP $expected, got $status: ${response%$'\n'*}" >&2; exit 1 ;;
  esac
}

# fail <message>: stops the script.
fail() { echo "$1" >&2; exit 1; }

# field <name> <json>: one top-level field of a JSON object.
field() { node -p 'JSON.parse(process.argv[2])[process.argv[1]]' "$1" "$2"; }

# header <name>: a header of the last answer (empty when absent).
header() { grep -i "^$1:" "$HEADERS" | cut -d' ' -f2- | tr -d '\r' || true; }

echo "== GET /health: is mario up on $URL?"
curl -sS -o /dev/null "$URL/health" || fail "no answer from $URL: start mario with npm start, or set MARIO_URL"
call 200 "$URL/health"

echo
echo "== POST /pipelines/hash-and-clean/jobs: 202 at once, the job is queued"
# The body is the job's instructions: a JSON object. Send the content type: curl's -d default
# (application/x-www-form-urlencoded) is refused with 415.
body="$(call 202 -X POST "$URL/pipelines/hash-and-clean/jobs" -H 'content-type: application/json' -d '{"size": 10}')"
echo "$body"
id="$(field id "$body")"
echo "Location: $(header location)"

echo
echo "== GET /jobs/$id until it is finished (succeeded or dead)"
for _ in $(seq 1 50); do
  job="$(call 200 "$URL/jobs/$id")"
  status="$(field status "$job")"
  if [ "$status" = succeeded ] || [ "$status" = dead ]; then break; fi
  sleep 0.2
done
echo "job $id $status"
echo "result: $(node -p 'JSON.stringify(JSON.parse(process.argv[1]).result)' "$job")"
[ "$status" = succeeded ] || fail "job $id did not succeed: $job"

echo
echo "== POST …/jobs?wait=5000: 200 and the finished job record in one request"
# Answers 202 and the current record instead when the job is not finished within the wait.
job="$(call 200 -X POST "$URL/pipelines/example-one/jobs?wait=5000" -H 'content-type: application/json' -d '{"size": 4}')"
echo "job $(field id "$job") $(field status "$job")"
echo "steps: $(node -p 'JSON.parse(process.argv[1]).steps.map((s) => s.jobType).join(" → ")' "$job")"

echo
echo "== GET /pipelines: steps, queue depths, in-flight jobs and workers"
call 200 "$URL/pipelines"

echo
echo "== Idempotency-Key: the same key on the same pipeline gives the same job"
# A key is 1 to 256 printable ASCII characters without spaces. A repeat with the same key answers
# the first job as it is (even with a different body) and sets Idempotent-Replayed: true.
key="curl-example-$(date +%s)-$$"
first="$(call 202 -X POST "$URL/pipelines/hash-and-clean/jobs" -H 'content-type: application/json' -H "Idempotency-Key: $key" -d '{"size": 1}')"
echo "first:  $first"
# 202 while the first job runs, 200 once it is finished.
again="$(call '20[02]' -X POST "$URL/pipelines/hash-and-clean/jobs" -H 'content-type: application/json' -H "Idempotency-Key: $key" -d '{"size": 2}')"
echo "again:  $again  (Idempotent-Replayed: $(header idempotent-replayed))"
[ "$(field id "$first")" = "$(field id "$again")" ] || fail "the repeat with key $key made another job"
echo "same job: $(field id "$first")"

echo
echo "== POST /jobs/:id/retry: requeue a dead job"
# calculate-hash fails on a file that does not exist: retried twice, then dead.
dead="$(call 200 -X POST "$URL/pipelines/calculate-hash/jobs?wait=10000" -H 'content-type: application/json' -d '{"path": "/nonexistent/mario-curl-example"}')"
dead_id="$(field id "$dead")"
echo "job $dead_id $(field status "$dead"): $(node -p 'JSON.parse(process.argv[1]).error.message' "$dead")"
call 202 -X POST "$URL/jobs/$dead_id/retry"
echo "a job that is not dead is refused with 409:"
call 409 -X POST "$URL/jobs/$id/retry"

echo
echo "== GET /metrics: Prometheus text format (jobs by pipeline and status shown here)"
call 200 "$URL/metrics" | grep '^mario_jobs_total'
