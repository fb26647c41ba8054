package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/merlonsec/merlon/internal/discover"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/spec"
)

// inventoryResult is what Merlon knows of the API before the checks run.
type inventoryResult struct {
	spec     *scan.SpecInfo
	ops      []*scan.Operation
	base     *url.URL // API root that operation paths are joined onto
	warnings []string
}

// inventory builds the operation list: from the spec the user gave
// (already loaded), else from a spec found at a well-known path, else by
// crawling from the base URL.
func inventory(ctx context.Context, cfg Config, given *spec.Spec, c *engine.Client, values *scan.ValueBank, lim Limits) (*inventoryResult, error) {
	res := &inventoryResult{base: cfg.Target}
	sp := given
	switch {
	case sp != nil:
	default:
		p, data, err := discover.FindSpec(ctx, c)
		switch {
		case err == nil:
			s, perr := spec.Parse(data, spec.Options{Source: p})
			if perr != nil {
				res.warnings = append(res.warnings, fmt.Sprintf("found a spec at %s but could not use it: %v; crawling instead", p, perr))
				break
			}
			sp = s
		case errors.Is(err, discover.ErrNoSpec), ctx.Err() != nil:
			// Interrupted: carry on with what is known, so the report
			// still says what was found.
		default:
			res.warnings = append(res.warnings, fmt.Sprintf("spec discovery failed: %v", err))
		}
	}
	if sp != nil {
		info := sp.Info
		res.spec = &info
		res.ops = sp.Operations
		res.warnings = append(res.warnings, sp.Warnings...)
		base, err := apiBase(cfg, sp.Info.Servers)
		if err != nil {
			return nil, err
		}
		res.base = base
		return res, nil
	}
	if cfg.BaseURL != nil {
		res.base = cfg.BaseURL
	}
	ops, err := discover.Crawl(ctx, c, discover.CrawlOptions{MaxPages: lim.CrawlPages, Values: values, Active: cfg.Active})
	if err != nil && ctx.Err() == nil {
		res.warnings = append(res.warnings, fmt.Sprintf("crawl stopped early: %v", err))
	}
	res.ops = ops
	res.warnings = append(res.warnings, fmt.Sprintf("no OpenAPI spec given or found; the inventory comes from crawling (%d operations); pass --spec for a complete scan", len(ops)))
	return res, nil
}

// maxSpecBytes caps a spec fetched by URL. Specs of large APIs run to
// megabytes (10,000 operations make about 10 MB), far past the cap on
// ordinary responses.
const maxSpecBytes = 64 << 20

// loadSpec reads --spec from a file or URL. A spec URL is fetched without
// the -H headers or any identity's credentials, whatever its origin, unless
// SpecAuth asks for them: a spec is usually public, and a credential sent
// where it is not needed is a credential exposed for nothing.
func loadSpec(ctx context.Context, cfg Config) (*spec.Spec, error) {
	src := cfg.Spec
	if isURL(src) {
		u, err := url.Parse(src)
		if err != nil || u.Host == "" {
			return nil, badInput("invalid spec URL %q", src)
		}
		var hdr http.Header
		if cfg.SpecAuth {
			hdr = specHeader(cfg.Headers, cfg.Identities)
		}
		fetcher := engine.New(engine.Config{BaseURL: u, Timeout: cfg.Timeout, Header: hdr, Insecure: cfg.Insecure, MaxRequests: 10,
			MaxBodyBytes: maxSpecBytes, UserAgent: "merlon/" + cfg.ToolVersion})
		fetch := func(ctx context.Context, raw string) ([]byte, error) {
			ex, err := fetcher.Do(ctx, &scan.Request{Method: http.MethodGet, Path: raw})
			if err != nil {
				return nil, err
			}
			if st := ex.Response.Status; st != http.StatusOK {
				return nil, specStatusError(st, cfg.SpecAuth)
			}
			if ex.Response.Truncated {
				return nil, fmt.Errorf("the spec is larger than %d MiB", maxSpecBytes>>20)
			}
			return ex.Response.Raw, nil
		}
		// spec.Load's errors already begin "load spec <url>:".
		s, err := spec.Load(ctx, src, fetch)
		if err != nil {
			return nil, badInput("%v", err)
		}
		return s, nil
	}
	if _, err := os.Stat(src); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, badInput("spec file %q does not exist", src)
		}
		return nil, badInput("read spec %q: %v", src, err)
	}
	s, err := spec.LoadFile(src)
	if err != nil {
		return nil, badInput("%v", err)
	}
	return s, nil
}

// specStatusError says what a status other than 200 from a spec URL means
// and what to do about it.
func specStatusError(st int, sentAuth bool) error {
	answered := fmt.Sprintf("answered %d %s", st, http.StatusText(st))
	switch {
	case (st == http.StatusUnauthorized || st == http.StatusForbidden) && !sentAuth:
		return fmt.Errorf("%s; pass --spec-auth to send your credentials", answered)
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return fmt.Errorf("%s to the credentials sent with --spec-auth; check them, or pass the spec as a file", answered)
	case st == http.StatusNotFound || st == http.StatusGone:
		return fmt.Errorf("%s; check the --spec URL, or leave --spec out to let Merlon look for the spec", answered)
	}
	return fmt.Errorf("%s, not 200; check the --spec URL, or pass the spec as a file", answered)
}

// isURL tells a --spec URL from a file path.
func isURL(src string) bool {
	return strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// apiBase decides the URL that spec paths are joined onto:
//  1. --base-url, when given (it must be on the target's origin);
//  2. the target URL, when it has a path beyond "/" (the user named the API root);
//  3. the target's origin plus the path of the spec's first server, so a
//     spec whose servers say https://api.example.com/v1 still works when
//     scanning http://127.0.0.1:8080;
//  4. the target URL.
func apiBase(cfg Config, servers []string) (*url.URL, error) {
	if cfg.BaseURL != nil {
		if !sameOrigin(cfg.BaseURL, cfg.Target) {
			return nil, badInput("--base-url %s is outside the target %s; Merlon never leaves the target's scheme, host and port", cfg.BaseURL, cfg.Target)
		}
		return cfg.BaseURL, nil
	}
	if cfg.Target.Path != "" && cfg.Target.Path != "/" {
		return cfg.Target, nil
	}
	for _, s := range servers {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "://") && !strings.HasPrefix(s, "/") {
			// Swagger 2.0's host+basePath: keep the path part.
			if i := strings.IndexByte(s, '/'); i >= 0 {
				s = s[i:]
			} else {
				s = "/"
			}
		}
		su, err := url.Parse(s)
		if err != nil || strings.Contains(su.Path, "{") {
			continue
		}
		p := path.Clean("/" + su.Path)
		if p == "/" {
			break
		}
		b := *cfg.Target
		b.Path = p
		return &b, nil
	}
	return cfg.Target, nil
}
