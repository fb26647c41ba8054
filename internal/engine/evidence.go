package engine

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/merlonsec/merlon/internal/redact"
	"github.com/merlonsec/merlon/internal/scan"
)

// redactMargin is how far past the evidence cap a body is redacted before
// it is cut. Redacting the whole body (up to MaxBodyBytes) for every
// response would cost more than the scan; redacting only the kept part
// could split a secret at the cut and let its first half through.
const redactMargin = 64 << 10

// exchange records one request and response as redacted evidence. shown
// is the URL already redacted for display.
//
// Beyond what package redact recognises, every identity header is
// redacted by name, and every credential value the engine knows (identity
// headers, login secrets, issued tokens) is replaced wherever it shows.
func (c *Client) exchange(method, shown string, h http.Header, body []byte, resp *http.Response, raw []byte, truncated bool, d time.Duration, idName string) *scan.Exchange {
	reqHeader := redact.Header(h)
	for k, vs := range reqHeader {
		if !c.s.idHeaderNames[k] {
			continue
		}
		for i, v := range vs {
			if v != "" && !strings.Contains(v, redact.Placeholder) {
				vs[i] = redact.Placeholder
			}
		}
	}
	c.s.secrets.scrubHeader(reqHeader)
	shown = c.s.secrets.scrub(shown)
	reqBody := c.s.secrets.scrub(c.evidence(body))
	respHeader := redact.Header(resp.Header)
	c.s.secrets.scrubHeader(respHeader)
	return &scan.Exchange{
		Request: scan.RecordedRequest{
			Method:   method,
			URL:      shown,
			Header:   reqHeader,
			Body:     reqBody,
			Identity: idName,
		},
		Response: scan.RecordedResponse{
			Status:    resp.StatusCode,
			Header:    respHeader,
			Body:      c.s.secrets.scrub(c.evidence(raw)),
			Truncated: truncated,
			Duration:  d,
			Raw:       raw,
		},
		Curl: Curl(method, shown, reqHeader, reqBody, c.cfg.Insecure),
	}
}

// evidence redacts a body and cuts it to EvidenceBytes.
func (c *Client) evidence(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	limit := c.cfg.EvidenceBytes
	if len(b) <= limit+redactMargin {
		return cut(redact.String(string(b)), limit)
	}
	red := redact.String(string(b[:limit+redactMargin]))
	// When redaction shrank the prefix so much that text near the margin
	// slid back under the cap, a secret split at the margin could show:
	// pay for the whole body instead.
	if len(red) < limit+redactMargin/2 {
		red = redact.String(string(b))
	}
	return cut(red, limit)
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Curl renders a request as a copy-pasteable curl command line. Every
// argument is single-quoted for POSIX shells; header values are taken as
// given, so redacted secrets stay placeholders for the reader to fill in.
func Curl(method, url string, h http.Header, body string, insecure bool) string {
	var b strings.Builder
	b.WriteString("curl -sS")
	if insecure {
		b.WriteString(" -k")
	}
	switch method {
	case http.MethodGet:
	case http.MethodHead:
		b.WriteString(" -I")
	default:
		b.WriteString(" -X ")
		b.WriteString(shellQuote(method))
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(" -H ")
			b.WriteString(shellQuote(k + ": " + v))
		}
	}
	if body != "" {
		b.WriteString(" --data-binary ")
		b.WriteString(shellQuote(body))
	}
	b.WriteByte(' ')
	b.WriteString(shellQuote(url))
	return b.String()
}

// shellQuote wraps s in single quotes, closing and escaping any single
// quote inside.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
