package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// gzipZeros is one gzip member of n MiB of zeros; members repeat into one
// valid stream, so a handler can send gigabytes decompressed cheaply.
func gzipZeros(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range n {
		w.Write(zeros)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHostileResponses sends one request to each kind of hostile answer
// and checks the engine reads a bounded amount, gives up on time, and
// counts the misbehaviour in Stats.
func TestHostileResponses(t *testing.T) {
	member := gzipZeros(t, 16)
	const timeout = 500 * time.Millisecond
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantErr bool
		want    func(Stats) bool
		wantMsg string
	}{
		{
			// 10 GiB decompressed; the cap applies after decompression.
			name: "gzip bomb",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				for range 640 {
					if _, err := w.Write(member); err != nil {
						return
					}
				}
			},
			want:    func(s Stats) bool { return s.Truncated == 1 && s.TransportErrors == 0 },
			wantMsg: "Truncated == 1",
		},
		{
			name: "endless body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				chunk := bytes.Repeat([]byte("x"), 64<<10)
				for r.Context().Err() == nil {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
			want:    func(s Stats) bool { return s.Truncated == 1 },
			wantMsg: "Truncated == 1",
		},
		{
			// Headers at once, then a byte a second: the deadline covers
			// the body, not just the wait for headers.
			name: "slow body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				rc := http.NewResponseController(w)
				for r.Context().Err() == nil {
					w.Write([]byte("x"))
					rc.Flush()
					time.Sleep(100 * time.Millisecond)
				}
			},
			wantErr: true,
			want:    func(s Stats) bool { return s.Timeouts == 1 && s.TransportErrors == 1 },
			wantMsg: "Timeouts == 1, TransportErrors == 1",
		},
		{
			name: "slowloris headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return
				}
				defer conn.Close()
				for _, b := range []byte("HTTP/1.1 200 OK\r\nX-Slow: yes\r\n\r\n") {
					if _, err := conn.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(200 * time.Millisecond)
				}
			},
			wantErr: true,
			want:    func(s Stats) bool { return s.Timeouts == 1 },
			wantMsg: "Timeouts == 1",
		},
		{
			name: "huge header",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Big", strings.Repeat("b", 2*maxHeaderBytes))
			},
			wantErr: true,
			want:    func(s Stats) bool { return s.OversizedHeaders == 1 && s.Timeouts == 0 },
			wantMsg: "OversizedHeaders == 1",
		},
		{
			name: "10,000 headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				for i := range 10000 {
					w.Header().Set(fmt.Sprintf("X-H-%d", i), "v")
				}
			},
			want:    func(s Stats) bool { return s.TransportErrors == 0 && s.OversizedHeaders == 0 },
			wantMsg: "no error: 10,000 short headers fit the cap",
		},
		{
			name: "redirect loop",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path, http.StatusFound)
			},
			want:    func(s Stats) bool { return s.RedirectLimit == 1 && s.Requests == maxRedirects+1 },
			wantMsg: fmt.Sprintf("RedirectLimit == 1, Requests == %d", maxRedirects+1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newCounter(t, tt.handler)
			c := newClient(t, srv.URL, Config{Timeout: timeout, MaxBodyBytes: 1 << 20, Retries: -1})
			start := time.Now()
			ex, err := c.Do(context.Background(), &scan.Request{Path: "/x"})
			took := time.Since(start)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Do = %v, want error %v", err, tt.wantErr)
			}
			if took > timeout+3*time.Second {
				t.Errorf("Do took %s, want about the %s timeout at most", took, timeout)
			}
			if ex != nil && len(ex.Response.Raw) > 1<<20 {
				t.Errorf("Raw = %d bytes, want at most the 1 MiB cap", len(ex.Response.Raw))
			}
			if st := c.Stats(); !tt.want(st) {
				t.Errorf("Stats() = %+v, want %s", st, tt.wantMsg)
			}
		})
	}
}

// TestCancelledScanIsNotTheTargetsFault checks that requests cut short by
// the scan's own context are not counted as the target timing out.
func TestCancelledScanIsNotTheTargetsFault(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	c := newClient(t, srv.URL, Config{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, &scan.Request{Path: "/"}); err == nil {
		t.Fatal("Do = nil error on a cancelled scan")
	}
	if st := c.Stats(); st.Timeouts != 0 || st.TransportErrors != 0 {
		t.Errorf("Stats() = %+v, want no timeout or transport error blamed on the target", st)
	}
}
