# shellcheck shell=bash
# Source me:  source scripts/pulumi-tools/env.sh
# Puts the Pulumi binaries built by scripts/pulumi-tools/build.sh on PATH and configures the
# CLI for an offline machine. Does not build anything (run build.sh first).

_pulumi_tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
PULUMI_TOOLS_BIN="$(cd "$_pulumi_tools_dir/../.." && pwd)/.tools/bin"
export PULUMI_TOOLS_BIN
unset _pulumi_tools_dir

case ":${PATH}:" in
  *":${PULUMI_TOOLS_BIN}:"*) ;;
  *) export PATH="${PULUMI_TOOLS_BIN}:${PATH}" ;;
esac

# No network access to the update service or the plugin download servers.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Plugins are found on PATH ("ambient" plugins); never set PULUMI_IGNORE_AMBIENT_PLUGINS.
unset PULUMI_IGNORE_AMBIENT_PLUGINS
# The CLI reports exactly the version of npm @pulumi/pulumi, so the Automation API's CLI
# version check passes and is kept; set PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true by hand
# only if you point PATH at another CLI build.

if [ ! -x "${PULUMI_TOOLS_BIN}/pulumi" ]; then
  echo "env.sh: ${PULUMI_TOOLS_BIN}/pulumi not found; run: bash scripts/pulumi-tools/build.sh" >&2
fi
