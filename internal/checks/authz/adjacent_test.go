package authz_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/authz"
	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

// strangerAPI holds a note of alice's (10) and one of carol's (11), carol
// being no identity of the scan. Nothing lists carol's note: only an ID
// next to one of alice's reaches it. With leak set, alice may read any
// note; bob only his own (none).
func strangerAPI(leak bool) http.Handler {
	notes := map[int]map[string]any{
		10: {"id": 10, "owner": "alice", "text": "alice's note"},
		11: {"id": 11, "owner": "carol", "text": "carol's note"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {
		u := r.Header.Get("X-User")
		if u == "" {
			reply(w, 401, map[string]string{"error": "login"})
			return
		}
		mine := []any{}
		for _, n := range notes {
			if n["owner"] == u {
				mine = append(mine, n)
			}
		}
		reply(w, 200, map[string]any{"notes": mine})
	})
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		u := r.Header.Get("X-User")
		id, _ := strconv.Atoi(r.PathValue("id"))
		n, ok := notes[id]
		switch {
		case u == "":
			reply(w, 401, map[string]string{"error": "login"})
		case !ok || (n["owner"] != u && !(leak && u == "alice")):
			reply(w, 404, map[string]string{"error": "not found"})
		default:
			reply(w, 200, n)
		}
	})
	return mux
}

// TestBOLAAdjacentIDs: an object no identity owns or lists is found by
// stepping from a known ID, and reported likely when one identity reads
// it and another is refused.
func TestBOLAAdjacentIDs(t *testing.T) {
	ops := []*scan.Operation{checktest.Op("GET", "/notes"), checktest.Op("GET", "/notes/{id}")}
	ids := checktest.WithIdentities(ident("alice"), ident("bob"))
	var (
		mu    sync.Mutex
		asked []string
	)
	watch := checktest.WithObserver(func(ex *scan.Exchange) {
		if ex.Request.Identity == "alice" {
			mu.Lock()
			asked = append(asked, ex.Request.URL[strings.LastIndex(ex.Request.URL, "/")+1:])
			mu.Unlock()
		}
	})
	fs := checktest.Run(t, authz.BOLA{}, strangerAPI(true), checktest.WithOperations(ops...), ids, watch)
	f := checktest.At(t, checktest.Only(t, fs, "authz.bola"), "id")
	if f.Confidence != scan.Likely || !strings.Contains(f.Description, "id=11") {
		t.Errorf("finding = %v: %s; want likely, about id=11", f.Confidence, f.Description)
	}
	found := false
	for _, a := range asked {
		found = found || a == "11"
	}
	if !found {
		t.Errorf("alice asked for %v, never the adjacent 11", asked)
	}
	checktest.None(t, checktest.Run(t, authz.BOLA{}, strangerAPI(false), checktest.WithOperations(ops...), ids))
}
