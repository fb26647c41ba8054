package web

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
)

//go:embed openapi.json
var openAPIDoc string

// serveOpenAPI serves the API description with this server's version.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	v, _ := json.Marshal(s.version) // a string always marshals
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(strings.Replace(openAPIDoc, `"version": "dev"`, `"version": `+string(v), 1)))
}
