# Shared environment for the project's scripts (sourced, not run).
export QUARRY_TOOLS="${QUARRY_TOOLS:-$HOME/.cache/quarry-tools}"
mkdir -p "$QUARRY_TOOLS/bin"
export PATH="$QUARRY_TOOLS/bin:$PATH"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
# Snapshots are compared, never written, by the test run.
export INSTA_UPDATE="${INSTA_UPDATE:-no}"
