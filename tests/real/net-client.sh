#!/usr/bin/env bash
# net-client.sh - the scripted HTTP client of the network tests
# (tests/boot/test_net_servers.c): a fixed list of requests to one of the two
# servers (nginx with tests/real/nginx, or build/real/httpd) through
# 127.0.0.1:PORT, written as one transcript that two runs of the same server
# binary - on the host and on Solo - must produce byte for byte.
#
#   tests/real/net-client.sh nginx|httpd PORT OUT [DATA_DIR]
#
# Every request is one curl run over HTTP/1.1 with --max-time 60 (a few
# share one keep-alive connection); there are at most 20 of them. The
# transcript holds, per request, "== METHOD PATH", the status line and the
# headers without Date, Last-Modified and ETag (times: the files' and the
# clock's), "\r" dropped, then "body: N bytes sha256 HEX" and, for a body of
# printable ASCII, its first 2000 bytes (so the transcript is text). DATA_DIR holds big.bin (nginx's docroot copy; httpd:
# the body POSTed to /echo). Exit 0 when every curl run finished (whatever the
# status codes); the transcript is what is compared.
set -euo pipefail

readonly MAX_TIME=60

[[ $# -ge 3 ]] || {
	sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}
server=$1 port=$2 out=$3 data=${4:-}
base=http://127.0.0.1:$port
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$out"

# show HEADERS BODY: appends one response to the transcript.
show() {
	tr -d '\r' <"$1" | grep -v -i -E '^(date|last-modified|etag):' >>"$out"
	printf 'body: %s bytes sha256 %s\n' "$(wc -c <"$2")" "$(sha256sum <"$2" | cut -d' ' -f1)" >>"$out"
	# Text bodies are shown (binary ones only by their hash).
	if [[ -z $(tr -d '\t\n\r\040-\176' <"$2" | head -c 1) ]]; then
		head -c 2000 "$2" >>"$out"
		printf '\n' >>"$out"
	fi
}

# req METHOD PATH [curl args...]: one request, one response.
req() {
	local method=$1 path=$2
	shift 2
	printf '== %s %s\n' "$method" "$path" >>"$out"
	: >"$tmp/h"
	: >"$tmp/b"
	if [[ $method == HEAD ]]; then
		curl -s -S --http1.1 --max-time "$MAX_TIME" -I -o "$tmp/h" "$@" "$base$path"
	else
		# No "Expect: 100-continue": curl would wait for the 100 first.
		curl -s -S --http1.1 --max-time "$MAX_TIME" -X "$method" -H 'Expect:' -D "$tmp/h" \
			-o "$tmp/b" "$@" "$base$path"
	fi
	show "$tmp/h" "$tmp/b"
}

# keepalive PATH...: GETs over one connection (curl keeps it between the
# --next groups of one run), each shown.
keepalive() {
	local i=0 args=() p
	for p in "$@"; do
		((i == 0)) || args+=(--next)
		args+=(-s -S --http1.1 --max-time "$MAX_TIME" -D "$tmp/h$i" -o "$tmp/b$i" "$base$p")
		i=$((i + 1))
	done
	printf '== GET (one connection) %s\n' "$*" >>"$out"
	curl "${args[@]}"
	for ((i = 0; i < $#; i++)); do
		show "$tmp/h$i" "$tmp/b$i"
	done
}

case $server in
nginx)
	req GET /
	req GET /hello.txt
	req GET /style.css
	req GET /sub/
	req GET /missing.html
	req HEAD /data.json
	req GET /big.bin
	req GET /big.bin -H 'Range: bytes=1000-1999'
	req GET /big.bin -H 'Range: bytes=-37'
	req POST /hello.txt --data-binary 'not allowed'
	keepalive / /hello.txt /data.json /sub/index.html /big.bin
	;;
httpd)
	req GET /
	req GET /nope
	req GET /echo
	req POST /echo --data-binary 'hello, echo'
	req POST /echo --data-binary "@$data/big.bin" -H 'Content-Type: application/octet-stream'
	req GET '/bytes?n=0'
	req GET '/bytes?n=1048576'
	req GET '/bytes?n=x'
	req GET '/sum?n=10485760'
	req GET /env
	keepalive / '/bytes?n=100000' /env '/sum?n=37'
	;;
*)
	echo "net-client.sh: the server is nginx or httpd, not '$server'" >&2
	exit 2
	;;
esac
