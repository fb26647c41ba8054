package authn

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// JWTWeakSecret reports HMAC-signed tokens whose key is in a wordlist:
// Merlon's built-in one, plus Wordlist. Whoever guesses the key can sign
// any claims.
type JWTWeakSecret struct {
	// Wordlist holds extra candidate secrets (--jwt-wordlist), tried after
	// the built-in ones.
	Wordlist []string
}

var _ scan.Check = JWTWeakSecret{}

// Meta describes the check.
func (JWTWeakSecret) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authn.jwt-weak-secret",
		Family:      "authn",
		Title:       "JWT signed with a guessable secret",
		Category:    scan.API2BrokenAuthentication,
		CWE:         521,
		Severity:    scan.Critical,
		MinSeverity: scan.Critical,
		Description: "Tries the built-in list of common secrets (and --jwt-wordlist) offline against each " +
			"HS256/384/512 token, then proves a found secret by signing a changed token the API accepts.",
	}
}

// Run cracks each token offline and confirms a found key on the token's
// probe operation.
func (c JWTWeakSecret) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, tk := range perLocation(hmacTokens(tokens(t)), maxTokens) {
		key, ok, err := crack(ctx, tk, c.Wordlist)
		if err != nil {
			return out, err
		}
		if !ok {
			continue
		}
		p := findProbe(ctx, t, s, tk)
		if p == nil {
			continue // no way to show the API trusts the key
		}
		forged, err := tk.sign(tk.alg(), tk.claimsWith(map[string]any{tamperClaim: nonce()}), []byte(key))
		if err != nil {
			return out, fmt.Errorf("sign with the found secret: %w", err)
		}
		ex := p.try(ctx, t, s, tk, forged)
		if ex == nil {
			continue
		}
		f := finding(c.Meta(), t, tk)
		f.Confidence = scan.Likely
		note := "a changed token signed with the guessed secret: refused"
		if conf, ok := p.accepted(ex); ok {
			f.Confidence = conf
			note = "a changed token signed with the guessed secret: accepted"
		}
		f.Description = fmt.Sprintf("The %s token in %s is signed with a %d-character secret found in %s. "+
			"Anyone who tries the same list can sign tokens with any subject or role; %s was tried with such a token.",
			tk.alg(), tk.location(), len(key), source(key), probe.Name(p.op))
		f.Evidence = p.evidence(ex, note, mask(key))
		out = append(out, f)
	}
	return out, s.Err()
}

// JWTExpiredAccepted reports APIs that accept a token whose exp is in the
// past. A token is only built expired when the check can sign it: the
// token's secret is guessable (see JWTWeakSecret) or the genuine token has
// already expired. Otherwise the check sends nothing.
type JWTExpiredAccepted struct {
	// Wordlist holds extra candidate secrets, as for JWTWeakSecret.
	Wordlist []string
}

var _ scan.Check = JWTExpiredAccepted{}

// Meta describes the check.
func (JWTExpiredAccepted) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authn.jwt-expired-accepted",
		Family:      "authn",
		Title:       "Expired JWT accepted",
		Category:    scan.API2BrokenAuthentication,
		CWE:         613,
		Severity:    scan.High,
		MinSeverity: scan.High,
		Description: "Sends a token whose exp is an hour in the past (the genuine token when it has expired, " +
			"else one re-signed with a guessed secret) and reports when the API accepts it.",
	}
}

// Run checks each token that is already expired or whose key is known.
func (c JWTExpiredAccepted) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	now := time.Now()
	for _, tk := range perLocation(tokens(t), maxTokens) {
		exp, hasExp := expiry(tk.claims)
		if hasExp && exp.Before(now) {
			// The identity's own token is expired and, if a probe
			// operation takes it, that alone is the proof.
			p := findProbe(ctx, t, s, tk)
			if p == nil {
				continue
			}
			f := finding(c.Meta(), t, tk)
			f.Confidence = scan.Confirmed
			f.Description = fmt.Sprintf("%s accepted the token in %s although its exp passed at %s. "+
				"A stolen token stays usable forever.", probe.Name(p.op), tk.location(), exp.UTC().Format(time.RFC3339))
			f.Evidence = []scan.Evidence{
				probe.Evidence(p.ok, p.genuine+", expired: accepted", "exp "+exp.UTC().Format(time.RFC3339)),
				probe.Evidence(p.denied, "no credentials: refused", ""),
			}
			out = append(out, f)
			continue
		}
		if !isHMAC(tk.alg()) {
			continue
		}
		key, ok, err := crack(ctx, tk, c.Wordlist)
		if err != nil {
			return out, err
		}
		if !ok {
			continue
		}
		p := findProbe(ctx, t, s, tk)
		if p == nil {
			continue
		}
		past := now.Add(-time.Hour).Unix()
		set := map[string]any{"exp": past}
		if _, ok := tk.claims["iat"]; ok {
			set["iat"] = past - 3600
		}
		if _, ok := tk.claims["nbf"]; ok {
			set["nbf"] = past - 3600
		}
		forged, err := tk.sign(tk.alg(), tk.claimsWith(set), []byte(key))
		if err != nil {
			return out, fmt.Errorf("sign an expired token: %w", err)
		}
		ex := p.try(ctx, t, s, tk, forged)
		conf, ok := p.accepted(ex)
		if !ok {
			continue
		}
		when := time.Unix(past, 0).UTC().Format(time.RFC3339)
		f := finding(c.Meta(), t, tk)
		f.Confidence = conf
		f.Description = fmt.Sprintf("%s accepted a token in %s whose exp passed at %s (signed with the token's own, guessable, key). "+
			"Expiry is not enforced, so a stolen or leaked token never stops working.", probe.Name(p.op), tk.location(), when)
		f.Evidence = p.evidence(ex, "the same claims with exp an hour in the past, properly signed: accepted", "exp "+when)
		out = append(out, f)
	}
	return out, s.Err()
}

// hmacTokens keeps the tokens signed with HS256, HS384 or HS512.
func hmacTokens(tks []*token) []*token {
	var out []*token
	for _, tk := range tks {
		if isHMAC(tk.alg()) {
			out = append(out, tk)
		}
	}
	return out
}

func isHMAC(alg string) bool {
	switch alg {
	case "HS256", "HS384", "HS512":
		return true
	}
	return false
}

// crack tries the built-in secrets, then extra, as tk's HMAC key. It
// stops with ctx's error when the scan is cancelled.
func crack(ctx context.Context, tk *token, extra []string) (string, bool, error) {
	m, ok := jwt.GetSigningMethod(tk.alg()).(*jwt.SigningMethodHMAC)
	if !ok || len(tk.parts) != 3 {
		return "", false, nil
	}
	sig, err := jwt.NewParser().DecodeSegment(tk.parts[2])
	if err != nil || len(sig) == 0 {
		return "", false, nil
	}
	signing := tk.parts[0] + "." + tk.parts[1]
	for i, list := 0, [][]string{builtinSecrets, extra}; i < len(list); i++ {
		for j, w := range list[i] {
			if j%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return "", false, err
				}
			}
			if m.Verify(signing, sig, []byte(w)) == nil {
				return w, true, nil
			}
		}
	}
	return "", false, nil
}

// source says which list a found secret came from.
func source(key string) string {
	for _, w := range builtinSecrets {
		if w == key {
			return "Merlon's built-in list of common secrets"
		}
	}
	return "the wordlist given with --jwt-wordlist"
}

// mask shows enough of a guessed secret for its owner to recognise it
// (first two characters and length) without printing it whole.
func mask(key string) string {
	r := []rune(key)
	if len(r) <= 2 {
		return fmt.Sprintf("guessed key of %d characters", len(r))
	}
	return fmt.Sprintf("guessed key %s%s (%d characters)", string(r[:2]), strings.Repeat("*", len(r)-2), len(r))
}

// expiry reads the exp claim.
func expiry(c map[string]any) (time.Time, bool) {
	var secs float64
	switch v := c["exp"].(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return time.Time{}, false
		}
		secs = f
	case float64:
		secs = v
	default:
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0), true
}
