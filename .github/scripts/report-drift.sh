#!/usr/bin/env bash
# Makes a failed drift check loud: opens an issue for the stack, or comments on the open one, and
# marks the run with an error annotation. Needs GH_TOKEN, GH_REPO, STACK and RUN_URL.
set -euo pipefail

: "${STACK:?}" "${RUN_URL:?}" "${GH_REPO:?}"
title="Drift detected in stack ${STACK}"
body="The drift check of **${STACK}** (\`pulumi preview --refresh --expect-no-changes\`) failed: ${RUN_URL}

Either a cluster was changed outside Pulumi, or the check could not run. Read the job log; then
either redeploy main (Actions > Deploy > Run workflow) to restore the declared state, or change the
program so it declares what the cluster should keep."

number="$(gh issue list --state open --search "in:title \"${title}\"" --json number,title \
  --jq ".[] | select(.title == \"${title}\") | .number" | head -n1)"
if [ -n "$number" ]; then
  gh issue comment "$number" --body "$body"
else
  gh issue create --title "$title" --body "$body"
fi
echo "::error::drift detected in stack ${STACK}: ${RUN_URL}"
