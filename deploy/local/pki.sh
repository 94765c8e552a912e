#!/usr/bin/env bash
# A throw-away certificate authority for a local Parley (./parley up, the test suite, the bench):
#   bash deploy/local/pki.sh DIR [NAME...]
# writes DIR/ca.pem (+ ca.key) once, and for each NAME (default: connector router storage push)
# DIR/NAME.pem and DIR/NAME.key: an EC P-256 certificate for serverAuth and clientAuth whose URI
# SAN is spiffe://parley/service/NAME (the identity services check, packages/core/src/peer.ts),
# with DNS:localhost and IP:127.0.0.1 for the WebSocket listener. A certificate that expires
# within a day is issued again. Nothing here is a production CA: on Kubernetes, cert-manager
# issues these from the chart (docs/OPERATIONS.md).
set -euo pipefail
dir="${1:?usage: pki.sh DIR [NAME...]}"
shift
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(connector router storage push)
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
cd "$dir"

if [[ ! -s ca.pem || ! -s ca.key ]] || ! openssl x509 -in ca.pem -noout -checkend 86400 >/dev/null 2>&1; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 365 -subj "/CN=Parley local CA $(date +%s)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem 2>/dev/null
  rm -f ./*.srl
  # A new CA: every certificate of the old one goes.
  for f in ./*.pem; do [[ "$f" == ./ca.pem ]] || rm -f "$f"; done
fi

for name in "${names[@]}"; do
  [[ "$name" =~ ^[a-z][a-z0-9-]{0,62}$ ]] || { echo "pki.sh: bad name $name" >&2; exit 2; }
  if [[ -s "$name.pem" && -s "$name.key" ]] && openssl x509 -in "$name.pem" -noout -checkend 86400 >/dev/null 2>&1; then continue; fi
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null
  openssl req -new -key "$name.key" -subj "/CN=parley-$name" -out "$name.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=URI:spiffe://parley/service/$name,DNS:localhost,IP:127.0.0.1" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -sha256 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
done
