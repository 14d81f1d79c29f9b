#!/bin/sh
# On the first start of the PostgreSQL container: one role and one database per
# component (component-role.sql), each password from <COMPONENT>_DB_PASSWORD.
# On a data volume created earlier, run it by hand (it is idempotent):
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/init-databases.sh
set -eu
for component in dispatch safety bugs notify gateway; do
  var="$(echo "$component" | tr a-z A-Z)_DB_PASSWORD"
  password="$(printenv "$var" || true)"
  if [ -z "$password" ]; then
    echo "init-databases: $var is not set" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v component="$component" -v password="$password" -f /atmr/component-role.sql
done
# The components' roles have no business in the administrator's databases either.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -c "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC" \
  -c "REVOKE CONNECT ON DATABASE \"${POSTGRES_DB:-$POSTGRES_USER}\" FROM PUBLIC"
