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

// loadSpec reads --spec from a file or URL. A spec URL on another origin
// than the target is fetched without the user's headers, so credentials
// meant for the API never travel elsewhere, unless SpecAuth asks for them.
func loadSpec(ctx context.Context, cfg Config) (*spec.Spec, error) {
	src := cfg.Spec
	if isURL(src) {
		u, err := url.Parse(src)
		if err != nil || u.Host == "" {
			return nil, badInput("invalid spec URL %q", src)
		}
		var hdr http.Header
		if sameOrigin(u, cfg.Target) || cfg.SpecAuth {
			hdr = cfg.specHeader
			if hdr == nil {
				hdr = cfg.Headers
			}
		}
		fetcher := engine.New(engine.Config{BaseURL: u, Timeout: cfg.Timeout, Header: hdr, Insecure: cfg.Insecure, MaxRequests: 10,
			MaxBodyBytes: maxSpecBytes, UserAgent: "merlon/" + cfg.ToolVersion})
		fetch := func(ctx context.Context, raw string) ([]byte, error) {
			ex, err := fetcher.Do(ctx, &scan.Request{Method: http.MethodGet, Path: raw})
			if err != nil {
				return nil, err
			}
			if ex.Response.Status != http.StatusOK {
				return nil, fmt.Errorf("GET %s: HTTP %d", raw, ex.Response.Status)
			}
			if ex.Response.Truncated {
				return nil, fmt.Errorf("GET %s: spec larger than %d MiB", raw, maxSpecBytes>>20)
			}
			return ex.Response.Raw, nil
		}
		s, err := spec.Load(ctx, src, fetch)
		if err != nil {
			return nil, badInput("load spec: %v", err)
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
