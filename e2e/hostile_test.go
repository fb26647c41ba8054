package e2e

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/merlonsec/merlon/internal/scan"
)

// xss is HTML and JavaScript that a report must never render as markup.
const xss = `<script>alert('merlon')</script><img src=x onerror=alert(1)>`

// bombMember is one gzip member holding 16 MiB of zeros (about 16 KiB
// compressed). Concatenated members are one valid gzip stream, so repeating
// it 640 times makes a 10 GiB body out of about 10 MiB on the wire without
// compressing 10 GiB in the test.
func bombMember(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 16 {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostileOps are the paths of the hostile API, each misbehaving its own way.
var hostileOps = []string{
	"/gzip-bomb", "/deflate-bomb", "/endless", "/slowloris", "/slow-body",
	"/redirect-loop", "/offscope", "/headers", "/big-header", "/invalid-utf8",
	"/invalid-json", "/deep", "/huge-number", "/xss", "/xss-error",
}

// hostileAPI serves a spec listing hostileOps and answers each one the
// hostile way its name says. elsewhere is the off-scope origin a redirect
// points to.
func hostileAPI(t *testing.T, elsewhere string) *httptest.Server {
	t.Helper()
	gz := bombMember(t)
	// A raw DEFLATE stream cannot be concatenated like gzip members, so
	// the deflate bomb is one stream, compressed once, of 256 MiB.
	fl := func() []byte {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		zeros := make([]byte, 1<<20)
		for range 256 {
			fw.Write(zeros)
		}
		fw.Close()
		return buf.Bytes()
	}()

	paths := map[string]any{}
	for _, p := range hostileOps {
		paths[p] = map[string]any{"get": map[string]any{
			"summary":   xss,
			"responses": map[string]any{"200": map[string]any{"description": xss}},
		}}
	}
	specDoc, _ := json.Marshal(map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "hostile " + xss, "version": "1"},
		"paths":   paths,
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(specDoc)
	})
	mux.HandleFunc("/gzip-bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		for range 640 {
			if _, err := w.Write(gz); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/deflate-bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "deflate")
		w.Write(fl)
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := bytes.Repeat([]byte(`{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},`), 1024)
		w.Write([]byte("["))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	// slowloris sends its status line and headers a byte a second.
	mux.HandleFunc("/slowloris", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}") {
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	})
	// slow-body answers at once, then sends its body a byte a second.
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for range 3600 {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	})
	mux.HandleFunc("/redirect-loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/redirect-loop?n="+strconv.Itoa(len(r.URL.RawQuery)), http.StatusFound)
	})
	mux.HandleFunc("/offscope", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere+"/stolen", http.StatusFound)
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for i := range 10000 {
			h.Set(fmt.Sprintf("X-Hostile-%d", i), xss)
		}
		h.Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	})
	mux.HandleFunc("/big-header", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("b", 4<<20))
		w.Write([]byte(`{}`))
	})
	mux.HandleFunc("/invalid-utf8", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{\"name\":\"\xff\xfe\xc0\x80 \x1b[31mred\x1b[0m \x00\x07\x08 \u202e\r\nfake: line\",\"id\":1}"))
	})
	mux.HandleFunc("/invalid-json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id": 1, "name": "unterminated, "list": [1, 2,, ], }}}`))
	})
	mux.HandleFunc("/deep", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.Repeat(`{"a":[`, 100000)))
		w.Write([]byte(`1`))
		w.Write([]byte(strings.Repeat(`]}`, 100000)))
	})
	mux.HandleFunc("/huge-number", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":1e999999999,"big":%s,"neg":-%s.5e-99999,"small":1e-400}`, strings.Repeat("9", 1<<20), strings.Repeat("1", 1000))
	})
	mux.HandleFunc("/xss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Hostile/1.2.3 "+xss)
		w.Header().Set("X-Powered-By", "PHP/8.1.2 "+xss)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":1,"name":%q,"email":%q,"role":%q,"]]>":"--></x>"}`, xss, "\"</script><svg onload=alert(2)>", "{{7*7}}${7*7}")
	})
	mux.HandleFunc("/xss-error", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "Traceback (most recent call last):\n  File \"/app/%s.py\", line 1, in <module>\n%s\n\x1b]0;pwned\x07\x00]]>", "x", xss)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", xss)
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":%q}`, xss+r.URL.Path)
	})
	return httptest.NewServer(mux)
}

// runMeasured runs the binary like run and returns its peak resident set
// in bytes and how long it took.
func runMeasured(t *testing.T, timeout time.Duration, args ...string) (result, int64, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, merlonBin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run merlon %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("merlon %v still running after %s; killed", args, timeout)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}, rss, took
}

// TestHostileTarget scans an API that misbehaves in every way a scanner
// must survive. Merlon has to finish inside --max-time with bounded
// memory, say in its report that the target misbehaved, stay in scope, and
// render every format with the hostile text escaped.
func TestHostileTarget(t *testing.T) {
	var stolen atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
	}))
	defer elsewhere.Close()
	srv := hostileAPI(t, elsewhere.URL)
	defer srv.Close()

	const maxTime = 40 * time.Second
	dir := t.TempDir()
	out := filepath.Join(dir, "scan.json")
	r, rss, took := runMeasured(t, 3*maxTime, "scan", srv.URL, "--spec", srv.URL+"/openapi.json",
		"--timeout", "3s", "--max-time", maxTime.String(), "--rate", "0", "--format", "json", "-o", out)
	t.Logf("hostile scan: exit %d in %s, peak RSS %d MiB", r.code, took.Round(time.Millisecond), rss>>20)
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", r.code, r.stderr)
	}
	if took > maxTime+5*time.Second {
		t.Errorf("scan took %s, want within --max-time %s", took, maxTime)
	}
	if rss == 0 || rss > 300<<20 {
		t.Errorf("peak RSS = %d MiB, want under 300 MiB", rss>>20)
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the off-scope origin got %d requests, want 0", n)
	}

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep scan.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("JSON report does not parse: %v", err)
	}
	warnings := strings.Join(rep.Warnings, "\n")
	for _, want := range []string{
		"over the body cap",                          // gzip and deflate bombs, endless body
		"timed out",                                  // slowloris, slow body
		"oversized headers",                          // one 4 MiB header
		"more than 1000 header fields",               // 10,000 headers
		"more than 5 times in a row",                 // redirect loop
		"to another origin",                          // off-scope redirect
		"a JSON content type and a body that is not", // invalid JSON
		"nested more than 64 levels",                 // JSON 100,000 deep
		"not valid UTF-8",                            // invalid UTF-8
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	if len(rep.Findings) == 0 {
		t.Fatalf("no findings; the /xss and /xss-error answers should give some")
	}

	t.Run("formats", func(t *testing.T) { checkFormats(t, out) })
}

// checkFormats renders the report at path in every format and checks each
// escapes what the target sent.
func checkFormats(t *testing.T, path string) {
	dir := filepath.Dir(path)
	for _, format := range []string{"text", "json", "sarif", "junit", "markdown", "html", "pdf"} {
		for _, verbose := range []bool{false, true} {
			name := format
			args := []string{"report", path, "--format", format, "-o", filepath.Join(dir, "out."+format)}
			if verbose {
				name += "-verbose"
				args = append(args, "--verbose")
			}
			t.Run(name, func(t *testing.T) {
				r := run(t, args...)
				if r.code != 0 {
					t.Fatalf("merlon %v: exit %d\n%s", args, r.code, r.stderr)
				}
				b, err := os.ReadFile(args[len(args)-1-btoi(verbose)])
				if err != nil {
					t.Fatal(err)
				}
				checkEscaped(t, format, b)
			})
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkEscaped asserts what each format must guarantee about hostile text.
func checkEscaped(t *testing.T, format string, b []byte) {
	t.Helper()
	switch format {
	case "text", "markdown":
		if !utf8.Valid(b) {
			t.Errorf("%s report is not valid UTF-8", format)
		}
		for i, c := range string(b) {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c == '\u202e' {
				t.Errorf("%s report has control character %U at byte %d: %q", format, c, i, around(b, i))
				break
			}
		}
		if format == "markdown" && bytes.Contains(b, []byte("<script")) {
			t.Errorf("markdown report holds a raw <script> tag: %q", around(b, bytes.Index(b, []byte("<script"))))
		}
	case "json", "sarif":
		if !json.Valid(b) {
			t.Fatalf("%s report is not valid JSON", format)
		}
		if !utf8.Valid(b) {
			t.Errorf("%s report is not valid UTF-8", format)
		}
	case "junit":
		dec := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("junit report is not well-formed XML: %v", err)
			}
		}
	case "html":
		low := bytes.ToLower(b)
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "onerror=alert(1)>"} {
			if i := bytes.Index(low, []byte(bad)); i >= 0 {
				t.Errorf("html report holds raw %q: %q", bad, around(b, i))
			}
		}
		if !bytes.Contains(b, []byte("&lt;script&gt;")) {
			t.Errorf("html report does not show the escaped script tag at all; was the hostile text rendered?")
		}
	case "pdf":
		if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b[max(0, len(b)-1024):], []byte("%%EOF")) {
			t.Errorf("pdf report is not a complete PDF (%d bytes)", len(b))
		}
		if _, err := exec.LookPath("pdftotext"); err == nil {
			checkPDFText(t, b)
		}
	}
}

// checkPDFText extracts the PDF's text and checks it parses and holds no
// control characters, proof the hostile bytes did not corrupt the file.
func checkPDFText(t *testing.T, b []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", f, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for _, c := range sc.Text() {
			if c < 0x20 && c != '\t' && c != '\f' {
				t.Errorf("pdf text has control character %U in %q", c, sc.Text())
				return
			}
		}
	}
}

// around is the text around byte i, for failure messages.
func around(b []byte, i int) string {
	return string(b[max(0, i-60):min(len(b), i+60)])
}
