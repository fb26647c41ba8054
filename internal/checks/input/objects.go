package input

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// cleanupTimeout bounds clean-up, which runs even after the scan's
// context has ended: leaving objects behind is worse than overrunning.
const cleanupTimeout = 10 * time.Second

// identity is who the input checks act as: the first configured identity,
// since creating objects usually takes one, else the global headers.
func identity(t *scan.Target) string {
	if len(t.Identities) > 0 {
		return t.Identities[0].Name
	}
	return ""
}

func success(ex *scan.Exchange) bool {
	return ex != nil && ex.Response.Status >= 200 && ex.Response.Status <= 299
}

// decodeObject reads a JSON object body, keeping numbers exact and
// unwrapping {"data": {...}}; nil when the body is not a JSON object.
func decodeObject(raw []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	if inner, ok := m["data"].(map[string]any); ok && len(m) <= 2 {
		return inner
	}
	return m
}

// store creates, reads and deletes the objects of one resource as one
// identity, and remembers what it created for clean-up.
type store struct {
	id      string
	t       *scan.Target
	h       scan.Requester // for clean-up, which outlives the Sender
	s       *probe.Sender
	r       *property.Resource
	as      string
	created []string
}

// send sends a JSON write; body nil sends none.
func (st *store) send(ctx context.Context, method, urlPath string, op *scan.Operation, body map[string]any) *scan.Exchange {
	req := &scan.Request{Method: method, Path: urlPath, Operation: op, Identity: st.as, NoRedirect: true}
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil
		}
		req.Body, req.Header = raw, http.Header{"Content-Type": {"application/json"}}
	}
	return st.s.Do(ctx, req)
}

// baseBody is a valid create body: the spec's example, else one built
// from the schema.
func (st *store) baseBody() map[string]any {
	req := fill.Request(st.r.Create, st.t.Values)
	var body map[string]any
	if req.Body != nil && json.Unmarshal(req.Body, &body) == nil && body != nil {
		return body
	}
	return map[string]any{}
}

// create POSTs body and returns the new object's key, registered for
// clean-up; "" when the API refused it or its key was not found.
func (st *store) create(ctx context.Context, body map[string]any) (string, *scan.Exchange) {
	ex := st.send(ctx, http.MethodPost, probe.Path(st.t, st.r.Create, nil), st.r.Create, body)
	if !success(ex) {
		return "", ex
	}
	key := ""
	obj := decodeObject(ex.Response.Raw)
	for _, n := range []string{st.r.Param, "id", "uuid", "_id"} {
		if v, ok := scalarOf(obj[n]); ok {
			key = v
			break
		}
	}
	if key == "" {
		if u, err := url.Parse(ex.Response.Header.Get("Location")); err == nil && u.Path != "" {
			key, _ = url.PathUnescape(path.Base(strings.TrimRight(u.Path, "/")))
		}
	}
	if key == "" || key == "." || key == "/" {
		st.t.Notes.Add(fmt.Sprintf("%s: could not clean up an object created by POST %s: its key was not in the answer", st.id, st.r.Collection))
		return "", ex
	}
	st.created = append(st.created, key)
	return key, ex
}

// item is the object's path for op.
func (st *store) item(op *scan.Operation, key string) string {
	return probe.Path(st.t, op, map[string]string{st.r.Param: key})
}

// read GETs the object with a separate request.
func (st *store) read(ctx context.Context, key string) (*scan.Exchange, map[string]any) {
	ex := st.send(ctx, http.MethodGet, st.item(st.r.Read, key), st.r.Read, nil)
	if !success(ex) {
		return ex, nil
	}
	return ex, decodeObject(ex.Response.Raw)
}

// cleanup deletes every object created, noting on the target each one it
// could not delete.
func (st *store) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, key := range st.created {
		if st.r.Delete == nil {
			st.t.Notes.Add(fmt.Sprintf("%s could not clean up %s (created by POST %s): the API has no DELETE for it",
				st.id, st.item(st.r.Read, key), st.r.Collection))
			continue
		}
		del := st.item(st.r.Delete, key)
		ex, err := st.h.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: del, Operation: st.r.Delete, Identity: st.as})
		switch {
		case err != nil:
			st.t.Notes.Add(fmt.Sprintf("%s could not clean up: DELETE %s failed: %v", st.id, del, err))
		case ex.Response.Status >= 300 && ex.Response.Status != http.StatusNotFound && ex.Response.Status != http.StatusGone:
			st.t.Notes.Add(fmt.Sprintf("%s could not clean up: DELETE %s answered %d", st.id, del, ex.Response.Status))
		}
	}
}

func scalarOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// canonical renders a JSON value so that equal values compare equal
// whatever their Go type (json.Number 5 and float64 5).
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return string(b)
	}
	if n, ok := out.(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			return fmt.Sprint(f)
		}
	}
	b, _ = json.Marshal(out)
	return string(b)
}

func nonce() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
