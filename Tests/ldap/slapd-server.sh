#!/bin/bash
# slapd-server.sh - a throw-away OpenLDAP directory for tests (Debian's slapd package), with its
# configuration, data, certificates, pid file and log all under one directory; nothing touches
# a system slapd (none needs to be configured: the package is installed with
# slapd/no_configuration preseeded).
#
#   slapd-server.sh start DIR [PORT] [TLSPORT] [--untrusted-cert | --wrong-host-cert]
#       Makes the directory in DIR if there is none (a test CA, certificates, the entries
#       below), starts slapd on ldap://127.0.0.1:PORT (StartTLS offered) and
#       ldaps://127.0.0.1:TLSPORT (default: the ports it had, else free ones), returns once it
#       answers, and prints the two URIs on stdout, one a line:
#           ldap://127.0.0.1:PORT
#           ldaps://127.0.0.1:TLSPORT
#       The server's certificate, for both StartTLS and LDAPS:
#         (default)           signed by DIR/ca.pem, for IP 127.0.0.1 and DNS localhost
#         --untrusted-cert    self-signed, same names, NOT signed by DIR/ca.pem
#         --wrong-host-cert   signed by DIR/ca.pem, but only for DNS wrong.example.org
#       Already running: prints the URIs again (the certificate is not changed; stop first).
#   slapd-server.sh stop DIR      stops it (SIGTERM, then SIGKILL after 5 s); not running is no error
#   slapd-server.sh restart DIR   stop, then start on the same ports with the same certificate
#   slapd-server.sh status DIR    "running on ports N M" (exit 0) or "not running" (exit 3)
#
# The directory (suffix dc=example,dc=org, mdb backend, memberof overlay so that every user
# carries memberOf for the groupOfNames groups listing it as member):
#   uid=tech1,ou=people,dc=example,dc=org      password tech1-secret       in cn=it-staff
#   uid=teacher1,ou=people,dc=example,dc=org   password "Lehrer Paßwort 1"  in cn=teachers
#   uid=nobody1,ou=people,dc=example,dc=org    password nobody1-secret     in neither
#   cn=it-staff,ou=groups,dc=example,dc=org and cn=teachers,ou=groups,dc=example,dc=org
# Users are inetOrgPerson (uid, cn, sn, mail) with a salted SHA-1 userPassword. OpenLDAP has
# no userPrincipalName and does not take "user@domain" as a bind name as Active Directory does:
# bind by DN template instead, uid=%s,ou=people,dc=example,dc=org.
# Use 127.0.0.1 in URIs, not localhost: for "localhost" libldap checks the certificate against
# the machine's own host name instead, which the test certificate does not carry.
# Access: anonymous may only bind (and read the root DSE); a bound user reads everything but
# passwords. The manager cn=admin,dc=example,dc=org has the password in DIR/admin-password.
#
# What DIR holds afterwards:
#   ca.pem, ca.key         the test CA             server.pem, server.key   signed by the CA
#   untrusted.pem/.key     self-signed             wrong-host.pem/.key      CA-signed, wrong name
#   slapd.conf             generated each start    data/                    the mdb database
#   slapd.log              slapd's output          slapd.pid                while running
#   ports                  "PORT TLSPORT"          admin-password           the manager's (600)
#
# Environment: SLAPD_READY_TIMEOUT (default 10 s).
# Root may run it: slapd then runs as root too, inside DIR, on unprivileged loopback ports.
set -euo pipefail

SUFFIX="dc=example,dc=org"
ADMIN_DN="cn=admin,$SUFFIX"

fail() { echo "slapd-server.sh: $*" >&2; exit 1; }

command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || fail "no slapd (apt-get install slapd ldap-utils)"
command -v ldapsearch >/dev/null 2>&1 || fail "no ldapsearch (apt-get install ldap-utils)"
command -v openssl >/dev/null 2>&1 || fail "no openssl"
SLAPD=$(command -v slapd || echo /usr/sbin/slapd)
SLAPPASSWD=$(command -v slappasswd || echo /usr/sbin/slappasswd)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running_pid() {
    local dir=$1 pid
    [ -s "$dir/slapd.pid" ] || return 1
    pid=$(cat "$dir/slapd.pid")
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

print_uris() {
    local ports
    read -r -a ports <"$1/ports"
    echo "ldap://127.0.0.1:${ports[0]}"
    echo "ldaps://127.0.0.1:${ports[1]}"
}

# The test CA and the three server certificates (EC P-256: quick to make).
make_certificates() {
    local dir=$1
    [ -s "$dir/wrong-host.pem" ] && return 0
    cat >"$dir/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[wrong_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example.org
EOF
    local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    (
        umask 077
        openssl req -x509 "${key[@]}" -config "$dir/openssl.cnf" -extensions ca -days 30 \
            -subj "/CN=slapd-server.sh test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem"
        openssl req -x509 "${key[@]}" -config "$dir/openssl.cnf" -extensions server -days 30 \
            -subj "/CN=127.0.0.1" -keyout "$dir/untrusted.key" -out "$dir/untrusted.pem"
        local name
        for name in server wrong-host; do
            openssl req -new "${key[@]}" -config "$dir/openssl.cnf" -subj "/CN=$name" \
                -keyout "$dir/$name.key" -out "$dir/$name.csr"
            openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial "0x$(
                od -An -N8 -tx1 /dev/urandom | tr -d ' \n'
            )" -days 30 -extfile "$dir/openssl.cnf" -extensions "${name/-/_}" -out "$dir/$name.pem"
            rm -f "$dir/$name.csr"
        done
    ) >"$dir/openssl.log" 2>&1 || fail "openssl could not make the certificates ($dir/openssl.log)"
    chmod 644 "$dir"/*.pem
}

write_config() {
    local dir=$1 certificate=$2
    cat >"$dir/slapd.conf" <<EOF
# Written by Tests/ldap/slapd-server.sh at each start.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
TLSCACertificateFile $dir/ca.pem
TLSCertificateFile $dir/$certificate.pem
TLSCertificateKeyFile $dir/$certificate.key
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read

database mdb
maxsize 16777216
suffix "$SUFFIX"
rootdn "$ADMIN_DN"
rootpw $("$SLAPPASSWD" -T "$dir/admin-password")
directory $dir/data
dbnosync
index objectClass,uid,member,memberOf eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by users read by anonymous auth by * none
EOF
}

# The entries, added over LDAP as the manager so that the memberof overlay fills in memberOf.
load_entries() {
    local dir=$1 uri=$2
    local -A passwords=([tech1]="tech1-secret" [teacher1]="Lehrer Paßwort 1" [nobody1]="nobody1-secret")
    {
        printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example School District\n\n' "$SUFFIX"
        printf 'dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$SUFFIX"
        printf 'dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n\n' "$SUFFIX"
        local user
        for user in tech1 teacher1 nobody1; do
            printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s@example.org\nuserPassword: %s\n\n' \
                "$user" "$SUFFIX" "$user" "Test ${user^}" "${user^}" "$user" \
                "$("$SLAPPASSWD" -h '{SSHA}' -s "${passwords[$user]}")"
        done
        printf 'dn: cn=it-staff,ou=groups,%s\nobjectClass: groupOfNames\ncn: it-staff\nmember: uid=tech1,ou=people,%s\n\n' \
            "$SUFFIX" "$SUFFIX"
        printf 'dn: cn=teachers,ou=groups,%s\nobjectClass: groupOfNames\ncn: teachers\nmember: uid=teacher1,ou=people,%s\n\n' \
            "$SUFFIX" "$SUFFIX"
    } >"$dir/entries.ldif"
    ldapadd -x -H "$uri" -D "$ADMIN_DN" -y "$dir/admin-password" -f "$dir/entries.ldif" >"$dir/ldapadd.log" 2>&1 \
        || fail "loading the entries failed: $(grep -m1 -iE 'error|additional' "$dir/ldapadd.log" || tail -1 "$dir/ldapadd.log")"
    touch "$dir/data/loaded"
}

# Waits until slapd answers a root DSE search on URI, or fails with its log's reason.
wait_until_ready() {
    local dir=$1 uri=$2 pid=$3 deadline=$((SECONDS + ${SLAPD_READY_TIMEOUT:-10}))
    until ldapsearch -x -H "$uri" -o nettimeout=1 -l 1 -b '' -s base 1.1 >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || return 1
        [ $SECONDS -lt $deadline ] || fail "slapd did not answer on $uri within ${SLAPD_READY_TIMEOUT:-10} s ($dir/slapd.log)"
        sleep 0.05
    done
}

# Starts slapd in the foreground of a background process (-d 32768, "none": no detaching, and
# only the messages slapd always logs, such as a port in use, in
# DIR/slapd.log); 0 once it answers, 1 if a port was taken, failure otherwise.
start_server() {
    local dir=$1 port=$2 tls_port=$3 pid
    echo "$port $tls_port" >"$dir/ports"
    rm -f "$dir/slapd.pid"
    setsid "$SLAPD" -d 32768 -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$tls_port/" \
        </dev/null >"$dir/slapd.log" 2>&1 &
    pid=$!
    wait_until_ready "$dir" "ldap://127.0.0.1:$port" "$pid" && return 0
    grep -q 'Address already in use' "$dir/slapd.log" && return 1
    fail "slapd did not start: $(grep -v '^$' "$dir/slapd.log" | tail -1) ($dir/slapd.log)"
}

start() {
    local dir=$1 port=$2 tls_port=$3 certificate=$4 attempt
    for value in "$port" "$tls_port"; do
        [ -z "$value" ] || [[ "$value" =~ ^[0-9]+$ ]] || fail "ports must be numbers, not '$value'"
    done
    mkdir -p "$dir" || fail "cannot create $dir"
    dir=$(readlink -f "$dir")
    if running_pid "$dir" >/dev/null; then
        print_uris "$dir"
        return 0
    fi
    mkdir -p "$dir/data"
    [ -s "$dir/admin-password" ] || (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/admin-password")
    make_certificates "$dir"
    write_config "$dir" "$certificate"
    if [ -z "$port" ] && [ -s "$dir/ports" ]; then read -r port tls_port <"$dir/ports"; fi
    local chosen=$port
    for attempt in 1 2 3; do
        [ -n "$port" ] || port=$(free_port)
        [ -n "$tls_port" ] || tls_port=$(free_port)
        [ "$port" != "$tls_port" ] || tls_port=$(free_port)
        start_server "$dir" "$port" "$tls_port" && break
        [ -z "$chosen" ] && [ "$attempt" -lt 3 ] || fail "port $port or $tls_port is in use"
        port="" tls_port=""
    done
    [ -e "$dir/data/loaded" ] || load_entries "$dir" "ldap://127.0.0.1:$port"
    print_uris "$dir"
}

stop() {
    local dir=$1 pid waited
    [ -d "$dir" ] || { echo "not running"; return 0; }
    dir=$(readlink -f "$dir")
    pid=$(running_pid "$dir") || { echo "not running"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for waited in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        [ "$waited" -lt 100 ] || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.05
    done
    rm -f "$dir/slapd.pid"
    echo "stopped"
}

certificate_option() {
    case "${1:-}" in
        "") echo server ;;
        --untrusted-cert) echo untrusted ;;
        --wrong-host-cert) echo wrong-host ;;
        *) fail "unknown option '$1' (--untrusted-cert or --wrong-host-cert)" ;;
    esac
}

usage="usage: $0 start DIR [PORT] [TLSPORT] [--untrusted-cert | --wrong-host-cert] | stop DIR | restart DIR | status DIR"
case "${1:-}" in
    start)
        [ $# -ge 2 ] || fail "$usage"
        dir=$2
        shift 2
        positional=() option=""
        for argument in "$@"; do
            case "$argument" in --*) [ -z "$option" ] || fail "$usage"; option=$argument ;; *) positional+=("$argument") ;; esac
        done
        [ ${#positional[@]} -le 2 ] || fail "$usage"
        certificate=$(certificate_option "$option")
        start "$dir" "${positional[0]:-}" "${positional[1]:-}" "$certificate" ;;
    stop) [ $# -eq 2 ] || fail "usage: $0 stop DIR"; stop "$2" ;;
    restart)
        [ $# -eq 2 ] || fail "usage: $0 restart DIR"
        [ -s "$2/ports" ] || fail "$2 has no directory; start one first"
        certificate=$(sed -n 's/^TLSCertificateFile .*\/\(.*\)\.pem$/\1/p' "$2/slapd.conf")
        stop "$2" >/dev/null
        read -r port tls_port <"$2/ports"
        start "$2" "$port" "$tls_port" "${certificate:-server}" ;;
    status)
        [ $# -eq 2 ] || fail "usage: $0 status DIR"
        if [ -d "$2" ] && running_pid "$(readlink -f "$2")" >/dev/null; then
            echo "running on ports $(cat "$2/ports")"
        else
            echo "not running"
            exit 3
        fi ;;
    *) fail "$usage" ;;
esac
