# Shared environment for the project's scripts (sourced, not run).
export QUARRY_TOOLS="${QUARRY_TOOLS:-$HOME/.cache/quarry-tools}"
mkdir -p "$QUARRY_TOOLS/bin"
export PATH="$QUARRY_TOOLS/bin:$PATH"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
# The MySQL-family server the MySQL corpus runner uses (it creates its own databases there).
export MYSQL_URL="${MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
# Snapshots are compared, never written, by the test run.
export INSTA_UPDATE="${INSTA_UPDATE:-no}"
