package web

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"

	"github.com/merlonsec/merlon/internal/report"
)

// exportReport downloads a scan's report in one of exportFormats.
func (s *Server) exportReport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeReport(w, r, id, r.PathValue("format"))
}

// writeReport renders a stored report as an attachment. The HTML report
// is the report renderer's own document, served with its own strict CSP.
func (s *Server) writeReport(w http.ResponseWriter, r *http.Request, scanID int64, format string) {
	if !slices.Contains(exportFormats, format) {
		s.fail(w, r, badRequest("format must be one of html, pdf, sarif, json"))
		return
	}
	rep, err := s.store.GetReport(r.Context(), scanID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rd, err := report.New(format, report.Options{Verbose: true})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := rd.Render(&buf, rep); err != nil {
		s.serverError(w, r, err)
		return
	}
	ctype, ext := map[string][2]string{
		"html":  {"text/html; charset=utf-8", "html"},
		"pdf":   {"application/pdf", "pdf"},
		"sarif": {"application/sarif+json", "sarif"},
		"json":  {"application/json", "json"},
	}[format][0], format
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="merlon-scan-%d.%s"`, scanID, ext))
	_, _ = w.Write(buf.Bytes())
}
