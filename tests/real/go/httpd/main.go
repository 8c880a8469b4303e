// httpd: the Go net/http server of the network tests (tests/boot/
// test_net_servers.c) and of make bench-net (tools/bench-net.sh).
// tools/real-programs.sh builds it with Debian's Go (CGO_ENABLED=0) into the
// static binary build/real/httpd, which runs on Solo, on the Linux peer of
// the benchmark and natively on the host; a scripted client compares the
// answers byte for byte, so every answer is a function of the request alone
// (and of the environment, for /env): no times, addresses or counters.
//
// usage: httpd [ADDR]   ADDR as net.Listen takes it [:8080], i.e. Go's
// dual-stack [::]:8080 by default.
//
// Routes (every answer has an explicit Content-Type; net/http adds Date):
//
//	GET  /              a fixed text page
//	POST /echo          the request body, as it came
//	GET  /bytes?n=N     N deterministic bytes (0 <= N <= 1 GiB): byte i is
//	                    "0123456789abcdefghijklmnopqrstuvwxyz\n"[i % 37], for
//	                    bulk transfer
//	GET  /env           the environment, one KEY=VALUE a line, sorted
//	GET  /sum?n=N       the SHA-256 of /bytes?n=N, in hex: a check that
//	                    does not move N bytes
//	anything else       404 with a fixed text
//
// When the listener is up it prints "httpd: listening on ADDR" on stdout,
// the line the tests and the benchmark wait for.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
)

const (
	pattern  = "0123456789abcdefghijklmnopqrstuvwxyz\n"
	maxBytes = 1 << 30
	index    = "Hello from httpd, a Go net/http server.\n" +
		"Routes: / /echo /bytes?n=N /env /sum?n=N\n"
)

// patternReader yields n bytes of pattern, starting at offset 0.
type patternReader struct{ off, n int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n-r.off {
		p = p[:r.n-r.off]
	}
	for i := range p {
		p[i] = pattern[(r.off+int64(i))%int64(len(pattern))]
	}
	r.off += int64(len(p))
	return len(p), nil
}

// count parses ?n=N; it answers 400 itself and returns -1 when N is bad.
func count(w http.ResponseWriter, r *http.Request) int64 {
	n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil || n < 0 || n > maxBytes {
		text(w, http.StatusBadRequest, "bad n: want 0 <= n <= "+strconv.Itoa(maxBytes)+"\n")
		return -1
	}
	return n
}

func text(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func main() {
	addr := ":8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			text(w, http.StatusNotFound, "not found: "+r.URL.Path+"\n")
			return
		}
		text(w, http.StatusOK, index)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			text(w, http.StatusMethodNotAllowed, "POST a body to /echo\n")
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes))
		if err != nil {
			text(w, http.StatusBadRequest, "reading the body: "+err.Error()+"\n")
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		n := count(w, r)
		if n < 0 {
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		io.Copy(w, &patternReader{n: n})
	})
	mux.HandleFunc("/sum", func(w http.ResponseWriter, r *http.Request) {
		n := count(w, r)
		if n < 0 {
			return
		}
		h := sha256.New()
		io.Copy(h, &patternReader{n: n})
		text(w, http.StatusOK, hex.EncodeToString(h.Sum(nil))+"\n")
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		env := os.Environ()
		sort.Strings(env)
		text(w, http.StatusOK, strings.Join(env, "\n")+"\n")
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpd:", err)
		os.Exit(1)
	}
	fmt.Printf("httpd: listening on %s\n", addr)
	err = http.Serve(ln, mux)
	fmt.Fprintln(os.Stderr, "httpd:", err)
	os.Exit(1)
}
