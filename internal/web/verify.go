package web

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

// VerificationPath is where a target proves that whoever starts an active
// scan controls it: the target must serve its verification token there.
const VerificationPath = "/.well-known/merlon-verification.txt"

// verificationToken is the token target t must serve. It is derived from
// the target's id, URL and creation time, so it is stable for the life of
// the target, differs between targets and between installations, and
// needs no column of its own. It is not a secret: knowing it is useless
// without the power to serve it from the target.
func verificationToken(t *store.Target) string {
	sum := sha256.Sum256([]byte("merlon verification\x00" + strconv.FormatInt(t.ID, 10) + "\x00" + t.URL + "\x00" + strconv.FormatInt(t.CreatedAt.UnixMicro(), 10)))
	return "merlon-verification=" + hex.EncodeToString(sum[:16])
}

// verificationURL is where the token of t is looked for: the path at the
// root of the target's origin.
func verificationURL(t *store.Target) string {
	base := strings.TrimRight(t.URL, "/")
	if i := strings.Index(base, "://"); i >= 0 {
		if j := strings.IndexByte(base[i+3:], '/'); j >= 0 {
			base = base[:i+3+j]
		}
	}
	return base + VerificationPath
}

// errNotVerified says a target did not serve its token.
var errNotVerified = errors.New("target did not prove control")

// newFetchClient returns the client verification uses: short timeouts, no
// redirects (a redirect to another host would prove nothing), and the SSRF
// guard on every connection.
func (s *Server) newFetchClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: s.guardDial}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// verifyTarget fetches t's verification file and checks that one of its
// lines is t's token.
func (s *Server) verifyTarget(ctx context.Context, t *store.Target) error {
	if _, err := s.checkURL(ctx, "target", t.URL); err != nil {
		return err
	}
	u := verificationURL(t)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return badRequest("verification URL %s: %v", u, err)
	}
	req.Header.Set("User-Agent", "merlon/"+s.version+" (verification)")
	resp, err := s.fetchClient.Do(req)
	if err != nil {
		return forbidden("%v: could not fetch %s", errNotVerified, u)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return forbidden("%v: %s answered %d, want 200 with the token", errNotVerified, u, resp.StatusCode)
	}
	want := verificationToken(t)
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4096))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == want {
			return nil
		}
	}
	return forbidden("%v: %s does not contain this target's token", errNotVerified, u)
}

// targetHost is what a person types to confirm an active scan.
func targetHost(t *store.Target) string {
	rest := t.URL
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
