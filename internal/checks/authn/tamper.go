package authn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// maxTokens bounds how many tokens (one per place tokens travel) each JWT
// check forges; with the probe search and the forgeries, a forging check
// sends at most maxTokens × (2×maxProbeCandidates + 4) requests.
const maxTokens = 2

// noneVariants are the spellings of alg "none" that verifiers comparing
// case-sensitively against "none" let through.
var noneVariants = []string{"none", "None", "NONE", "nOnE"}

// JWTAlgNone reports APIs that accept a token re-encoded with alg "none"
// and no signature: anyone can then forge any claims.
type JWTAlgNone struct{}

var _ scan.Check = JWTAlgNone{}

// Meta describes the check.
func (JWTAlgNone) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authn.jwt-alg-none",
		Family:      "authn",
		Title:       "JWT with alg none accepted",
		Category:    scan.API2BrokenAuthentication,
		CWE:         347,
		Severity:    scan.Critical,
		MinSeverity: scan.Critical,
		Description: "Re-encodes an identity's JWT with alg none (none, None, NONE, nOnE) and an empty " +
			"signature, and reports when an operation that refuses anonymous requests accepts it.",
	}
}

// Run forges one unsigned token per spelling of none, stopping at the
// first one accepted.
func (c JWTAlgNone) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, tk := range perLocation(tokens(t), maxTokens) {
		p := findProbe(ctx, t, s, tk)
		if p == nil {
			continue
		}
		for _, alg := range noneVariants {
			// The payload segment is kept byte for byte: only the
			// header and the signature change.
			forged := segment(tk.joseWith(alg)) + "." + tk.parts[1] + "."
			ex := p.try(ctx, t, s, tk, forged)
			conf, ok := p.accepted(ex)
			if !ok {
				continue
			}
			f := finding(c.Meta(), t, tk)
			f.Confidence = conf
			f.Description = fmt.Sprintf("%s accepted a token in %s whose header says alg %q and whose signature is empty. "+
				"Anyone can write such a token with any claims (another user's subject, an admin role) and the API will take it.",
				probe.Name(p.op), tk.location(), alg)
			f.Evidence = p.evidence(ex, "the token re-encoded with alg "+alg+" and no signature: accepted", `{"alg":"`+alg+`"}`)
			out = append(out, f)
			break
		}
	}
	return out, s.Err()
}

// JWTSignatureNotVerified reports APIs that accept a token whose payload
// was changed after signing, or whose signature was replaced: the
// signature is not checked, so claims can be forged.
type JWTSignatureNotVerified struct{}

var _ scan.Check = JWTSignatureNotVerified{}

// Meta describes the check.
func (JWTSignatureNotVerified) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authn.jwt-signature-not-verified",
		Family:      "authn",
		Title:       "JWT signature not verified",
		Category:    scan.API2BrokenAuthentication,
		CWE:         347,
		Severity:    scan.Critical,
		MinSeverity: scan.Critical,
		Description: "Sends an identity's JWT with a claim added to its payload and the original signature kept, " +
			"then with its payload intact and a random signature, and reports when either is accepted.",
	}
}

// tamperClaim is the claim added to a payload to change it; its value is
// random per run, so no cache can have seen the token.
const tamperClaim = "merlon_tamper"

// Run tries the two forgeries on each token's probe operation.
func (c JWTSignatureNotVerified) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, tk := range perLocation(tokens(t), maxTokens) {
		if strings.EqualFold(tk.alg(), "none") {
			continue // nothing to verify: the alg-none check's business
		}
		p := findProbe(ctx, t, s, tk)
		if p == nil {
			continue
		}
		forgeries := []struct{ token, note, matched string }{
			{
				segment(tk.jose) + "." + segment(tk.claimsWith(map[string]any{tamperClaim: nonce()})) + "." + tk.parts[2],
				"the payload changed (claim " + tamperClaim + " added), the original signature kept: accepted",
				tamperClaim,
			},
			{
				tk.parts[0] + "." + tk.parts[1] + "." + randomSignature(len(tk.parts[2])),
				"the payload intact, the signature replaced by random bytes: accepted",
				"signature",
			},
		}
		for _, fg := range forgeries {
			ex := p.try(ctx, t, s, tk, fg.token)
			conf, ok := p.accepted(ex)
			if !ok {
				continue
			}
			f := finding(c.Meta(), t, tk)
			f.Confidence = conf
			f.Description = fmt.Sprintf("%s accepted a %s token in %s that its issuer never signed. "+
				"The API reads the claims without checking the signature, so anyone can change the subject or the role in a token.",
				probe.Name(p.op), tk.alg(), tk.location())
			f.Evidence = p.evidence(ex, fg.note, fg.matched)
			out = append(out, f)
			break
		}
	}
	return out, s.Err()
}

// nonce is a short random string for forged claims and usernames.
func nonce() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// randomSignature returns n base64url characters of random bytes, at
// least 43 (a 256-bit signature).
func randomSignature(n int) string {
	n = max(n, 43)
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
