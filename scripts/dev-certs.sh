#!/usr/bin/env bash
# Makes a development certificate authority and certificates for Jaring's
# gRPC ports, with the openssl command line (Debian's `openssl` package).
# FOR DEVELOPMENT AND TESTS: production certificates come from the
# operator's own CA, and keys never enter a repository.
#
#   scripts/dev-certs.sh DIR [SERVER_NAME...]
#
# writes, in DIR (created; mode 0700):
#   ca.pem, ca.key                 the development CA (10 years)
#   server.pem, server.key         for `jaring serve --tls-cert --tls-key`,
#                                  valid for localhost, 127.0.0.1, ::1 and
#                                  every SERVER_NAME given (DNS names)
#   client.pem, client.key         a client certificate for mutual TLS
#                                  (`--tls-client-ca ca.pem`): a national
#                                  operator (OU=national, CN=jaringctl)
#   oversight.pem, oversight.key   an oversight body (OU=oversight)
#   mataram.pem, mataram.key       the regional office of Kota Mataram
#                                  (OU=regional/52.71)
#
# The OU names the role (libs/auth: national, oversight, verifier,
# regional/<region prefix>) and the CN the principal.
set -euo pipefail
dir="${1:?usage: scripts/dev-certs.sh DIR [SERVER_NAME...]}"
shift
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do san="$san,DNS:$name"; done

if [ ! -f ca.key ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/O=Jaring development/CN=Jaring development CA" -keyout ca.key -out ca.pem 2>/dev/null
fi

issue() {  # issue NAME SUBJECT EXTENSIONS
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$2" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
  chmod 600 "$1.key"
}

issue server "/O=Jaring development/CN=jaring" \
  "subjectAltName=$san
extendedKeyUsage=serverAuth
keyUsage=digitalSignature"
client_ext="extendedKeyUsage=clientAuth
keyUsage=digitalSignature"
issue client "/O=Jaring development/OU=national/CN=jaringctl" "$client_ext"
issue oversight "/O=Jaring development/OU=oversight/CN=oversight-dev" "$client_ext"
issue mataram "/O=Jaring development/OU=regional\/52.71/CN=dinsos-mataram" "$client_ext"
chmod 600 ca.key
echo "dev-certs: CA, server and client certificates in $(pwd)"
