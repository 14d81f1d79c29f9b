#!/bin/sh
# Creates one database per component on the first start of the PostgreSQL container.
set -eu
for db in dispatch safety bugs notify gateway; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c "CREATE DATABASE atmr_$db"
done
