package pipeline

import (
	"fmt"

	"github.com/merlonsec/merlon/internal/engine"
)

// misbehaviour turns what the engine counted against the target into
// warnings, so that a report on an API that sent bombs, stalled, looped
// or answered in broken shapes says so instead of looking like an
// ordinary scan.
func misbehaviour(st engine.Stats, lim engine.Limits) []string {
	var out []string
	if st.Truncated > 0 {
		out = append(out, fmt.Sprintf("the target sent %d %s over the body cap (%s); only the first %s of each was read",
			st.Truncated, plural(st.Truncated, "response"), bytesize(lim.MaxBodyBytes), bytesize(lim.MaxBodyBytes)))
	}
	if st.Timeouts > 0 {
		out = append(out, fmt.Sprintf("%d %s to the target timed out (--timeout %s), the body included",
			st.Timeouts, plural(st.Timeouts, "request"), lim.Timeout))
	}
	if st.OversizedHeaders > 0 {
		out = append(out, fmt.Sprintf("the target sent %d %s with oversized headers (over %s); they were dropped",
			st.OversizedHeaders, plural(st.OversizedHeaders, "response"), bytesize(lim.MaxHeaderBytes)))
	}
	if st.ManyHeaders > 0 {
		out = append(out, fmt.Sprintf("the target sent %d %s with more than %d header fields",
			st.ManyHeaders, plural(st.ManyHeaders, "response"), lim.MaxHeaderFields))
	}
	if st.RedirectLimit > 0 {
		out = append(out, fmt.Sprintf("the target redirected %d %s more than %d times in a row; Merlon stopped following",
			st.RedirectLimit, plural(st.RedirectLimit, "request"), lim.MaxRedirects))
	}
	if st.OffScopeRedirects > 0 {
		out = append(out, fmt.Sprintf("the target redirected %d %s to another origin; Merlon stays in scope and did not follow",
			st.OffScopeRedirects, plural(st.OffScopeRedirects, "request")))
	}
	if st.InvalidJSON > 0 {
		out = append(out, fmt.Sprintf("the target sent %d %s with a JSON content type and a body that is not JSON",
			st.InvalidJSON, plural(st.InvalidJSON, "response")))
	}
	if st.DeepJSON > 0 {
		out = append(out, fmt.Sprintf("the target sent %d JSON %s nested more than %d levels deep; Merlon read no deeper",
			st.DeepJSON, plural(st.DeepJSON, "response"), lim.MaxJSONDepth))
	}
	if st.InvalidUTF8 > 0 {
		out = append(out, fmt.Sprintf("the target sent %d text or JSON %s whose body is not valid UTF-8",
			st.InvalidUTF8, plural(st.InvalidUTF8, "response")))
	}
	return out
}

// bytesize writes n in the largest binary unit that divides it.
func bytesize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
