package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// Auth is what an identity needs beyond its static headers.
type Auth struct {
	// Login, when set, is the flow that obtains (and renews) its token.
	Login *engine.Login
	// CheckMethod and CheckPath are the request that proves the identity
	// works: it must answer 2xx. Without them Merlon sends GET to the
	// target URL and, when that answers neither 2xx nor 401/403, the first
	// GET operation without path parameters once the inventory is known.
	CheckMethod string
	CheckPath   string
}

// preflightIdentities logs every identity in and sends its check request,
// before anything else is scanned: wrong credentials must stop the scan,
// never produce a clean report of what anonymous users see. It returns the
// identities whose default check was inconclusive, for confirmIdentities.
// An identity that is refused is an InputError, which the CLI maps to the
// usage exit code: bad credentials are bad input.
func preflightIdentities(ctx context.Context, c *engine.Client, cfg Config) ([]scan.Identity, error) {
	var undecided []scan.Identity
	for _, id := range cfg.Identities {
		a := cfg.Auth[id.Name]
		if a.Login != nil {
			if err := c.Login(ctx, id.Name); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, badInput("identity %q%s: login failed: %v", id.Name, roleOf(id), err)
			}
		}
		req := &scan.Request{Method: a.CheckMethod, Path: a.CheckPath, Identity: id.Name}
		explicit := a.CheckPath != ""
		if !explicit {
			req.Method, req.Path = http.MethodGet, cfg.Target.String()
		}
		ex, err := c.Do(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, scan.ErrWriteNotAllowed) || errors.Is(err, scan.ErrOutOfScope) {
				return nil, badInput("identity %q%s: check request: %v", id.Name, roleOf(id), err)
			}
			return nil, fmt.Errorf("identity %q check request: %w", id.Name, err)
		}
		switch st := ex.Response.Status; {
		case st >= 200 && st < 300:
		case st == http.StatusUnauthorized || st == http.StatusForbidden || explicit:
			return nil, refused(id, ex)
		default:
			undecided = append(undecided, id)
		}
	}
	return undecided, nil
}

// confirmIdentities settles the identities whose check on the target URL
// was inconclusive (a 404 on the root is common) with the first GET
// operation that needs no path parameter.
func confirmIdentities(ctx context.Context, h scan.Requester, ops []*scan.Operation, values *scan.ValueBank, ids []scan.Identity) error {
	if len(ids) == 0 {
		return nil
	}
	var op *scan.Operation
	for _, o := range ops {
		if o.Method == http.MethodGet && len(scan.PathParams(o.Path)) == 0 {
			op = o
			break
		}
	}
	for _, id := range ids {
		if op == nil {
			return badInput("identity %q%s could not be checked: the target URL does not answer 2xx and the API has no GET operation without parameters; set check: {method, path} for it in merlon.yaml", id.Name, roleOf(id))
		}
		req := fill.Request(op, values)
		req.Identity = id.Name
		ex, err := h.Do(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("identity %q check request: %w", id.Name, err)
		}
		if st := ex.Response.Status; st < 200 || st >= 300 {
			return refused(id, ex)
		}
	}
	return nil
}

func refused(id scan.Identity, ex *scan.Exchange) error {
	st := ex.Response.Status
	hint := "check its credentials"
	if st != http.StatusUnauthorized && st != http.StatusForbidden {
		hint = "want 2xx; check its credentials or its check request"
	}
	return badInput("identity %q%s is not accepted: %s %s answered %d %s; %s",
		id.Name, roleOf(id), ex.Request.Method, ex.Request.URL, st, http.StatusText(st), hint)
}

func roleOf(id scan.Identity) string {
	if id.Role == "" {
		return ""
	}
	return " (role " + id.Role + ")"
}

// specHeader is what a spec URL is fetched with: the global headers and
// the default identity's current credentials.
func specHeader(global http.Header, ids []scan.Identity) http.Header {
	h := global.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(ids) > 0 {
		for k, v := range ids[0].Headers {
			h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
		}
	}
	return h
}
