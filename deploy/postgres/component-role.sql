-- One component's PostgreSQL role and database: the role owns its database
-- (and everything in it) and can connect to nothing else. Idempotent: run it
-- again to change the password, or on a database created before the roles
-- existed (it hands the existing tables to the role).
--
-- psql variables: component (dispatch, safety, bugs, notify, gateway) and
-- password. Run by a superuser, or a role with CREATEROLE and CREATEDB:
--   psql -v ON_ERROR_STOP=1 -v component=dispatch -v password=... -f component-role.sql
-- docker-compose.yml runs it from init-databases.sh; Kubernetes from the
-- atmr-migrate Job's init container (deploy/k8s/base/migrate-job.yaml).

\set role atmr_:component
\set db atmr_:component

SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'password';
-- A non-superuser administrator may hand a database only to a role it can act as.
SELECT format('GRANT %I TO CURRENT_USER', :'role')
WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = CURRENT_USER) \gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"role";
-- PUBLIC may connect to every database by default: no component's role may
-- open another component's database.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;

\connect :"db"
ALTER SCHEMA public OWNER TO :"role";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- Tables migrated before the roles existed (by the administrator) move to
-- the role; their sequences follow them.
SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'role')
FROM pg_tables WHERE schemaname = 'public' AND tableowner <> :'role' \gexec
