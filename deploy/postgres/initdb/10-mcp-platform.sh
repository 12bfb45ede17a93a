#!/usr/bin/env bash
# First-start initialisation of the postgres service in docker-compose.yml. The postgres image
# runs the scripts of /docker-entrypoint-initdb.d once, when its data volume is empty, as the
# superuser. To change what this creates later, edit the roles by hand or start on a new volume.
#
# It creates, each login with its own password (variables set on the postgres service):
#   temporal            owns the databases temporal and temporal_visibility (TEMPORAL_DB_PASSWORD)
#   mcp                 owns the platform database mcp and runs its migrations (MCP_DB_PASSWORD);
#                       CREATEROLE lets migrations create the database role of a new domain
#   mcp_domain_<d>      NOLOGIN: what domain <d>'s adapter may touch; migrations grant it access to
#                       the domain's own schema only (hr.*, erp.*)
#   mcp_worker_<d>      the login of domain <d>'s worker (<D>_DATABASE_URL), member of
#                       mcp_domain_<d>, which the worker switches to (SET ROLE) on every connection
# for every domain in MCP_DOMAIN_LOGINS (space-separated), with passwords <D>_DB_PASSWORD.
set -euo pipefail

: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD on the postgres service}"
: "${MCP_DB_PASSWORD:?set MCP_DB_PASSWORD on the postgres service}"
: "${MCP_DOMAIN_LOGINS:=hr erp devops}"

psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}")

# Passwords travel as psql variables (:'name' quotes them as SQL literals), never in the SQL text.
"${psql[@]}" -v temporal_password="$TEMPORAL_DB_PASSWORD" -v mcp_password="$MCP_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal, temporal_visibility FROM PUBLIC;

CREATE ROLE mcp LOGIN CREATEROLE PASSWORD :'mcp_password';
CREATE DATABASE mcp OWNER mcp;
REVOKE ALL ON DATABASE mcp FROM PUBLIC;
SQL

for domain in $MCP_DOMAIN_LOGINS; do
  if [[ ! $domain =~ ^[a-z][a-z0-9_]*$ ]]; then
    echo "MCP_DOMAIN_LOGINS: invalid domain name '$domain'" >&2
    exit 1
  fi
  password_var="$(tr '[:lower:]' '[:upper:]' <<<"$domain")_DB_PASSWORD"
  password="${!password_var:-}"
  if [[ -z $password ]]; then
    echo "set $password_var on the postgres service (the password of mcp_worker_$domain)" >&2
    exit 1
  fi
  "${psql[@]}" -v domain_role="mcp_domain_$domain" -v login="mcp_worker_$domain" -v password="$password" <<'SQL'
CREATE ROLE :"domain_role" NOLOGIN;
-- The migrating login grants the domain role privileges on the domain's schema.
GRANT :"domain_role" TO mcp WITH ADMIN OPTION;
CREATE ROLE :"login" LOGIN PASSWORD :'password' IN ROLE :"domain_role";
GRANT CONNECT ON DATABASE mcp TO :"login";
SQL
done
