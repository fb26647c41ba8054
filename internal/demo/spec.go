package demo

import (
	_ "embed"
	"net/http"
)

//go:embed openapi.json
var specJSON []byte

// Spec returns the demo API's OpenAPI document.
func Spec() []byte { return specJSON }

func serveSpec(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(specJSON)
}
