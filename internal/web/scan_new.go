package web

import (
	"net/http"
	"strconv"

	"github.com/merlonsec/merlon/internal/store"
)

// showNewScanPage is the start-a-scan form: a new URL, or a known target
// given by ?target=ID.
func (s *Server) showNewScanPage(w http.ResponseWriter, r *http.Request) {
	p := map[string]any{}
	if v := r.URL.Query().Get("target"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.fail(w, r, store.ErrNotFound)
			return
		}
		t, err := s.store.GetTarget(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p["Target"] = t
		p["Identities"] = describeIdentities(t.Identities)
		p["Host"] = targetHost(t)
		p["VerificationURL"] = verificationURL(t)
		p["Token"] = verificationToken(t)
	}
	s.render(w, r, "scan_new", "Start a scan", p)
}
