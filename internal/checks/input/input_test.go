package input_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/input"
	"github.com/merlonsec/merlon/internal/scan"
)

// nodeStack is what an Express app in development prints for bad JSON.
const nodeStack = "<pre>SyntaxError: Unexpected end of JSON input<br> &nbsp; &nbsp;at JSON.parse (&lt;anonymous&gt;)<br>" +
	"\n    at parse (/app/node_modules/body-parser/lib/types/json.js:92:19)</pre>"

// orderAPI stores orders. "vulnerable" stores whatever it is sent and
// answers malformed JSON with a 500 and a stack; "fixed" validates as its
// spec says and answers malformed JSON with 400; "coerce" accepts invalid
// values with 200 but stores a corrected one.
type orderAPI struct {
	mode   string
	mu     sync.Mutex
	orders map[int]map[string]any
	next   int
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func valid(k string, v any) bool {
	switch k {
	case "quantity":
		n, ok := v.(float64)
		return ok && n == float64(int(n)) && n >= 1 && n <= 100
	case "email":
		s, ok := v.(string)
		return ok && strings.Contains(s, "@") && len(s) <= 254
	case "status":
		return v == "pending" || v == "shipped"
	case "note":
		s, ok := v.(string)
		return ok && len(s) <= 50
	}
	return false
}

func (a *orderAPI) Handler() http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, r *http.Request, o map[string]any) bool {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			if a.mode == "vulnerable" {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(500)
				_, _ = w.Write([]byte(nodeStack))
			} else {
				reply(w, 400, map[string]string{"error": "bad json"})
			}
			return false
		}
		for k, v := range body {
			switch {
			case a.mode == "fixed" && !valid(k, v):
				reply(w, 400, map[string]string{"error": "invalid " + k})
				return false
			case a.mode == "coerce" && !valid(k, v):
				continue
			}
			o[k] = v
		}
		return true
	}
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		o := map[string]any{"id": a.next}
		if write(w, r, o) {
			a.orders[a.next] = o
			a.next++
			reply(w, 201, o)
		}
	})
	find := func(w http.ResponseWriter, r *http.Request) (map[string]any, int) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		o, ok := a.orders[id]
		if !ok {
			reply(w, 404, map[string]string{"error": "not found"})
		}
		return o, id
	}
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if o, _ := find(w, r); o != nil {
			reply(w, 200, o)
		}
	})
	mux.HandleFunc("PATCH /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if o, _ := find(w, r); o != nil && write(w, r, o) {
			reply(w, 200, o)
		}
	})
	mux.HandleFunc("DELETE /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if o, id := find(w, r); o != nil {
			delete(a.orders, id)
			w.WriteHeader(204)
		}
	})
	return mux
}

func ptr[T any](v T) *T { return &v }

func orderOps() []*scan.Operation {
	schema := &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{
		"quantity": {Type: "integer", Minimum: ptr(1.0), Maximum: ptr(100.0), Example: 2},
		"email":    {Type: "string", Format: "email", MaxLength: ptr(int64(254))},
		"status":   {Type: "string", Enum: []any{"pending", "shipped"}},
		"note":     {Type: "string", MaxLength: ptr(int64(50))},
	}}
	create := checktest.Op("POST", "/orders")
	create.RequestBody = &scan.RequestBody{ContentType: "application/json", Schema: schema}
	update := checktest.Op("PATCH", "/orders/{id}")
	update.RequestBody = &scan.RequestBody{ContentType: "application/json", Schema: schema}
	return []*scan.Operation{create, checktest.Op("GET", "/orders/{id}"), update, checktest.Op("DELETE", "/orders/{id}")}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		mode string
		want []string // locations reported, sorted
	}{
		{"vulnerable", []string{"email", "note", "quantity", "status"}},
		{"fixed", nil},
		{"coerce", nil},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			api := &orderAPI{mode: tt.mode, orders: map[int]map[string]any{}, next: 1}
			fs := checktest.Run(t, input.Validation{}, api.Handler(), checktest.WithOperations(orderOps()...), checktest.WithActive())
			if got := strings.Join(checktest.Locations(fs), ","); got != strings.Join(tt.want, ",") {
				t.Fatalf("Validation locations = %q, want %q", got, strings.Join(tt.want, ","))
			}
			for _, f := range fs {
				if f.Confidence != scan.Confirmed || f.Operation != "PATCH /orders/{id}" {
					t.Errorf("%s, want confirmed on PATCH /orders/{id}", checktest.Describe(f))
				}
			}
			if len(api.orders) != 0 {
				t.Errorf("%d orders left, want every created one deleted", len(api.orders))
			}
		})
	}
}

func TestServerError(t *testing.T) {
	tests := []struct {
		mode   string
		active bool
		want   []string
	}{
		{"vulnerable", true, []string{"POST /orders", "PATCH /orders/{id}"}},
		{"vulnerable", false, nil},
		{"fixed", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.mode+map[bool]string{true: " active", false: " passive"}[tt.active], func(t *testing.T) {
			// Order 1 exists, so that PATCH /orders/1 reaches the body parser.
			api := &orderAPI{mode: tt.mode, orders: map[int]map[string]any{1: {"id": 1}}, next: 2}
			opts := []checktest.Option{checktest.WithOperations(orderOps()...)}
			if tt.active {
				opts = append(opts, checktest.WithActive())
			}
			fs := checktest.Run(t, input.ServerError{}, api.Handler(), opts...)
			var got []string
			for _, f := range fs {
				got = append(got, f.Operation)
				if !strings.Contains(f.Title, "Node.js stack trace") || f.Evidence[0].Matched == "" {
					t.Errorf("%s: want a Node.js stack trace matched", checktest.Describe(f))
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ServerError operations = %q, want %q", got, tt.want)
			}
		})
	}
}
