#!/bin/sh
# Throwaway test PKI for the central scenario: a CA, and one key and
# certificate per host (CN and DNS subjectAltName = host name, usable as
# TLS server and client). Usage: make-test-pki.sh DIR HOST...
set -eu
dir=$1; shift
mkdir -p "$dir"
cd "$dir"
if [ ! -e ca.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=logsieve test CA" \
        -keyout ca.key -out ca.pem 2>/dev/null
fi
for host in "$@"; do
    [ -e "$host.pem" ] && continue
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$host" \
        -keyout "$host.key" -out "$host.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n' \
        "$host" > "$host.ext"
    openssl x509 -req -in "$host.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -days 2 -extfile "$host.ext" -out "$host.pem" 2>/dev/null
    rm -f "$host.csr" "$host.ext"
done
