#!/bin/sh
# Regenerates the test PKI (tests/host_tls.rs): a CA, a server certificate it signs for
# localhost / 127.0.0.1, and an unrelated CA that must be refused. Valid for 100 years,
# so the committed files do not expire under the tests. Needs openssl; run from here.
set -eu
days=36500
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ec ca.key
openssl req -x509 -new -key ca.key -days $days -subj "/CN=mmcl test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -out ca.pem
ec server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
  -extfile server.ext -out server.pem
ec other-ca.key
openssl req -x509 -new -key other-ca.key -days $days -subj "/CN=mmcl other CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -out other-ca.pem
rm -f server.csr server.ext ca.srl ca.key other-ca.key
