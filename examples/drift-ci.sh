#!/bin/sh
# drift in CI: the commands the GitHub Actions workflow and the GitLab CI job run, in one
# place (tests/test_ci_examples.py runs this very file against a fixture repository).
#
# Settings (environment variables, all optional):
#   DRIFT_REPO      repository to audit                      (default: .)
#   DRIFT_OUT       folder for report.json, report.html, ... (default: drift-out)
#   DRIFT_CACHE     per-commit cache, kept between runs      (default: .drift-cache)
#   DRIFT_HISTORY   earlier JSON reports, kept between runs  (default: .drift-history)
#   DRIFT_BASELINE  accepted drift, committed to the repo    (default: .drift-baseline.json)
#   DRIFT_SUMMARY   Markdown summary file                    (default: $DRIFT_OUT/summary.md;
#                   GitHub: $GITHUB_STEP_SUMMARY)
#   DRIFT_GATES     gate options        (default: --fail-on missing_hotfix --max-pending-age 30d)
#   DRIFT_AS_OF     time ages are measured at (default: now; drift's own default is the
#                   newest environment tip, which stops ages growing in a quiet week)
#
# Exit code: drift's own (0 passed, 1 a gate tripped or could not be evaluated, 2 usage or
# input error, 3 crash). The reports are written whatever the gates say.
set -eu

repo=${DRIFT_REPO:-.}
out=${DRIFT_OUT:-drift-out}
cache=${DRIFT_CACHE:-.drift-cache}
history=${DRIFT_HISTORY:-.drift-history}
baseline=${DRIFT_BASELINE:-.drift-baseline.json}
summary=${DRIFT_SUMMARY:-$out/summary.md}
gates=${DRIFT_GATES:---fail-on missing_hotfix --max-pending-age 30d}
as_of=${DRIFT_AS_OF:-now}

mkdir -p "$out" "$history"
# The newest earlier report, to say what changed since the last run.
previous=$(ls "$history"/drift-*.json 2>/dev/null | tail -n 1 || true)
set --
if [ -f "$baseline" ]; then
    set -- --baseline "$baseline"
fi

status=0
# --verbose: the cache's hits and misses in the log.
# shellcheck disable=SC2086  # $gates is a list of options
drift audit "$repo" --as-of "$as_of" --color never --verbose --cache "$cache" --history "$history" \
    "$@" $gates --json "$out/report.json" --html "$out/report.html" --markdown "$summary" \
    || status=$?

if [ -n "$previous" ] && [ -f "$out/report.json" ]; then
    drift diff "$previous" "$out/report.json" --color never \
        --json "$out/diff.json" --markdown "$out/diff.md"
    { echo; cat "$out/diff.md"; } >> "$summary"
fi
exit "$status"
