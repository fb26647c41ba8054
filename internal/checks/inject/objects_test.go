package inject_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/inject"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/scan"
)

// itemStore is a small in-memory API of items: POST creates one under a
// new id, PATCH changes one, DELETE (when offered) removes one. Item "1"
// exists before the scan and is not Merlon's to change.
type itemStore struct {
	mu      sync.Mutex
	items   map[string]map[string]any
	next    int
	created int
	patched map[string]int // PATCH requests by id
}

func newItemStore() *itemStore {
	return &itemStore{items: map[string]map[string]any{"1": {"id": "1", "name": "apple", "note": "seed"}},
		next: 100, patched: map[string]int{}}
}

func (s *itemStore) handler(withDelete bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, `{"error":"bad json"}`, 400)
			return
		}
		if _, ok := body["name"].(string); !ok {
			http.Error(w, `{"error":"name must be a string"}`, 400)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.next++
		s.created++
		id := fmt.Sprint(s.next)
		body["id"] = id
		s.items[id] = body
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(body)
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		it, ok := s.items[r.PathValue("id")]
		if !ok {
			http.Error(w, `{"error":"not found"}`, 404)
			return
		}
		json.NewEncoder(w).Encode(it)
	})
	mux.HandleFunc("PATCH /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		s.mu.Lock()
		defer s.mu.Unlock()
		id := r.PathValue("id")
		s.patched[id]++
		it, ok := s.items[id]
		if !ok {
			http.Error(w, `{"error":"not found"}`, 404)
			return
		}
		for k, v := range body {
			if k != "id" {
				it[k] = v
			}
		}
		json.NewEncoder(w).Encode(it)
	})
	if withDelete {
		mux.HandleFunc("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if _, ok := s.items[r.PathValue("id")]; !ok {
				http.Error(w, `{"error":"not found"}`, 404)
				return
			}
			delete(s.items, r.PathValue("id"))
			w.WriteHeader(http.StatusNoContent)
		})
	}
	return mux
}

// state describes the store: its ids, item 1's fields, and how often
// each was patched.
func (s *itemStore) state() (ids []string, seed string, patched map[string]int, created int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.items {
		ids = append(ids, id)
	}
	b, _ := json.Marshal(s.items["1"])
	p := make(map[string]int, len(s.patched))
	for k, v := range s.patched {
		p[k] = v
	}
	return ids, string(b), p, s.created
}

func itemOps(withDelete bool) []*scan.Operation {
	id := scan.Parameter{Name: "id", In: "path", Required: true, Example: "1"}
	create := checktest.Op("POST", "/items")
	create.RequestBody = &scan.RequestBody{ContentType: "application/json", Example: map[string]any{"name": "apple", "note": "x"}}
	update := checktest.Op("PATCH", "/items/{id}", id)
	update.RequestBody = &scan.RequestBody{ContentType: "application/json", Example: map[string]any{"note": "y"}}
	ops := []*scan.Operation{create, checktest.Op("GET", "/items/{id}", id), update}
	if withDelete {
		ops = append(ops, checktest.Op("DELETE", "/items/{id}", id))
	}
	return ops
}

const seedItem = `{"id":"1","name":"apple","note":"seed"}`

var injectChecks = []scan.Check{inject.SQL{Delay: 0.2}, inject.NoSQL{}, inject.Command{Delay: 0.2}, inject.Template{}}

// TestCreatesCleanedUp: every object the probes of a create make is
// deleted, and updates touch only objects the check made for them.
func TestCreatesCleanedUp(t *testing.T) {
	t.Parallel()
	for _, c := range injectChecks {
		t.Run(c.Meta().ID, func(t *testing.T) {
			t.Parallel()
			s := newItemStore()
			checktest.Run(t, c, s.handler(true), checktest.WithActive(), checktest.WithOperations(itemOps(true)...))
			ids, seed, patched, created := s.state()
			if len(ids) != 1 || ids[0] != "1" {
				t.Errorf("items after the check = %v, want only the seed item 1", ids)
			}
			if seed != seedItem {
				t.Errorf("seed item after the check = %s, want %s unchanged", seed, seedItem)
			}
			if created < 4 {
				t.Errorf("%d items created, want the create probed (3 baselines and probes)", created)
			}
			if patched["1"] != 0 {
				t.Errorf("item 1 patched %d times, want 0: updates go only to the check's own object", patched["1"])
			}
			// The path parameter is an injection point too: every id
			// patched is the check's own object's, payloads appended.
			var own []string
			for id := range patched {
				if _, err := strconv.Atoi(id); err == nil {
					own = append(own, id)
				}
			}
			if len(own) != 1 || own[0] == "1" {
				t.Fatalf("patched ids = %q, want the id of one object of the check's own", own)
			}
			for id := range patched {
				if !strings.HasPrefix(id, own[0]) {
					t.Errorf("patched id %q is not the check's own object %s with a payload", id, own[0])
				}
			}
		})
	}
}

// runWithNotes runs c against h as checktest.Run does, and returns the
// notes the check left on the target.
func runWithNotes(t *testing.T, c scan.Check, h http.Handler, ops []*scan.Operation) []string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	target := &scan.Target{BaseURL: u, Operations: ops, Active: true, Profile: scan.Standard,
		Values: &scan.ValueBank{}, Notes: &scan.Notes{}}
	client := engine.New(engine.Config{BaseURL: u, Active: true, Timeout: 5 * time.Second})
	if _, err := c.Run(t.Context(), target, client); err != nil {
		t.Fatalf("%s.Run: %v", c.Meta().ID, err)
	}
	return target.Notes.All()
}

// TestNoDeleteHaltsCreate: with no DELETE, the first object a create
// makes is noted once and the create is probed no further, and the
// update, which would change an object that is not the check's, is not
// probed at all.
func TestNoDeleteHaltsCreate(t *testing.T) {
	t.Parallel()
	for _, c := range injectChecks {
		t.Run(c.Meta().ID, func(t *testing.T) {
			t.Parallel()
			s := newItemStore()
			notes := runWithNotes(t, c, s.handler(false), itemOps(false))
			_, seed, patched, created := s.state()
			if created != 1 {
				t.Errorf("%d items created, want 1: the create halts once an object cannot be deleted", created)
			}
			if len(patched) != 0 {
				t.Errorf("patched ids = %v, want none: no object of the check's own to update", patched)
			}
			if seed != seedItem {
				t.Errorf("seed item after the check = %s, want %s unchanged", seed, seedItem)
			}
			if len(notes) != 1 || !strings.Contains(notes[0], "POST /items") || !strings.Contains(notes[0], "left behind") ||
				!strings.Contains(notes[0], "no DELETE") {
				t.Errorf("notes = %q, want one naming POST /items, its missing DELETE and objects left behind", notes)
			}
		})
	}
}
