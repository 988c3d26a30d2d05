#!/bin/sh
# Makes the secret files docker-compose.yml mounts (once; existing files are kept). Needs openssl.
set -eu
cd "$(dirname "$0")/secrets"
chmod 700 .   # only the owner may enter; the files themselves must be readable by uid 1000 in the container
umask 077
[ -s audit_hmac_key ] || openssl rand -base64 48 | tr -d '\n' > audit_hmac_key
[ -s delivery_key ] || openssl rand -hex 32 | tr -d '\n' > delivery_key
[ -s token_signing_key.pem ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out token_signing_key.pem
if [ ! -s mcdt_api_key ]; then
  openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n' > mcdt_api_key
  echo "API key of consumer mcdt (give it to the one-stop-shop system, X-API-Key): $(cat mcdt_api_key)"
fi
# The delivery store's PostgreSQL (deploy/compose/postgres.yml): its password, and the gateway's URL with it.
[ -s postgres_password ] || openssl rand -hex 24 | tr -d '\n' > postgres_password
[ -s delivery_database_url ] || printf 'postgres://lgsp:%s@postgres:5432/lgsp' "$(cat postgres_password)" > delivery_database_url
# The container runs as uid 1000: let it read the files (docker compose bind-mounts them as they are).
chmod 0644 audit_hmac_key delivery_key token_signing_key.pem mcdt_api_key postgres_password delivery_database_url
echo "secrets in $(pwd)"
