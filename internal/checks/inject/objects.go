package inject

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/scan"
)

// Probes of write operations must leave the API as they found it. A
// create's every answered request makes an object, which is deleted at
// once, before the next request, so each probe meets the same state the
// baseline did. An update would change an object that is not Merlon's,
// so it is probed only on an object the check created for the purpose,
// and skipped when it cannot make and remove one.

// cleanupTimeout bounds each clean-up request, which is sent even after
// the scan's context has ended: leaving objects behind is worse than
// overrunning a little.
const cleanupTimeout = 10 * time.Second

// writes says which operations create and which update a resource's
// objects.
type writes struct {
	creates map[*scan.Operation]*property.Resource
	// updates maps each PATCH or PUT on an item path to its resource, nil
	// when no writable resource has that item path.
	updates map[*scan.Operation]*property.Resource
}

func classify(ops []*scan.Operation) writes {
	w := writes{creates: make(map[*scan.Operation]*property.Resource), updates: make(map[*scan.Operation]*property.Resource)}
	items := make(map[string]*property.Resource)
	for _, r := range property.Resources(ops) {
		if r.Create != nil {
			w.creates[r.Create] = r
		}
		if r.Item != "" {
			items[r.Item] = r
		}
	}
	for _, op := range ops {
		if op == nil || !isItem(op.Path) {
			continue
		}
		switch strings.ToUpper(op.Method) {
		case http.MethodPatch, http.MethodPut:
			w.updates[op] = items[op.Path]
		}
	}
	return w
}

// isItem reports whether a path template names one object: its last
// segment is a single {parameter}.
func isItem(p string) bool {
	p = strings.TrimRight(p, "/")
	last := p[strings.LastIndexByte(p, '/')+1:]
	return len(last) > 2 && last[0] == '{' && last[len(last)-1] == '}' && !strings.ContainsAny(last[1:len(last)-1], "{}")
}

// prepare readies o's objects before its first request. A create's key
// field, when the body has one, gets a value of its own, so that no
// probe can overwrite an existing object and the clean-up deletes only
// what the probe made. An update gets an object of the check's own to
// change; prepare reports false when it cannot have one, and the
// operation is not probed.
func (r *runner) prepare(ctx context.Context, o *operation) bool {
	if res, ok := r.w.creates[o.op]; ok {
		o.res, o.create = res, true
		o.freshKey(res.Param)
		return true
	}
	res, ok := r.w.updates[o.op]
	if !ok {
		return true
	}
	if res == nil || res.Create == nil || res.Delete == nil || r.noted[res.Create] || r.done() {
		// No object of the check's own to change, or its create is
		// known to leave objects behind.
		return false
	}
	c := plan(res.Create, r.t.Values)
	c.res = res
	c.freshKey(res.Param)
	req := c.request(nil, nil)
	r.sent++
	ex := r.s.Do(ctx, req)
	if !success(ex) {
		return false
	}
	key := createdKey(res, req.Body, ex)
	if key == "" {
		r.leftBehind(c.op, ex, "its key was not in the answer")
		return false
	}
	o.res, o.update, o.key = res, true, key
	o.params["path:"+res.Param] = key
	kept := o.points[:0]
	for _, pt := range o.points {
		switch {
		case pt.in == "path" && pt.name == res.Param:
			pt.value = key
		case pt.in == "body" && len(pt.keys) == 1 && pt.keys[0] == res.Param:
			// A new key in an update's body would move the object away
			// from the check, and possibly onto another's key.
			continue
		}
		kept = append(kept, pt)
	}
	o.points = kept
	if m, isObj := o.body.(map[string]any); isObj {
		if _, has := m[res.Param]; has {
			m[res.Param] = key
		}
	}
	return true
}

// finish deletes the object an update was probed on.
func (r *runner) finish(ctx context.Context, o *operation) {
	if !o.update || o.key == "" {
		return
	}
	if why := r.remove(ctx, o.res, o.key); why != "" {
		r.t.Notes.Add(fmt.Sprintf("%s could not clean up %s, created by POST %s to probe %s: %s; it may have been left behind",
			r.meta.ID, probe.Path(r.t, o.res.Delete, map[string]string{o.res.Param: o.key}), o.res.Collection, probe.Name(o.op), why))
	}
}

// freshKey gives the body's top-level key field a value no existing
// object has: "merlon-<random>", or a random nine-digit number.
func (o *operation) freshKey(name string) {
	m, isObj := o.body.(map[string]any)
	if !isObj || name == "" {
		return
	}
	var v any
	switch m[name].(type) {
	case string:
		v = "merlon-" + nonce(8)
	case json.Number:
		v = json.Number(fmt.Sprint(factor(100000000, 999999999)))
	default:
		return
	}
	m[name] = v
	for _, pt := range o.points {
		if pt.in == "body" && len(pt.keys) == 1 && pt.keys[0] == name {
			pt.value = scalar(v)
		}
	}
}

// created deletes the object a create's request made, when it made one.
// When it cannot, it notes so, once per operation, and halts the
// operation's probes: each would leave another object.
func (r *runner) created(ctx context.Context, o *operation, req *scan.Request, ex *scan.Exchange) {
	res := o.res
	made := res.Item != "" || ex.Response.Status == http.StatusCreated || ex.Response.Header.Get("Location") != ""
	if !made {
		// A POST with no item path beside it that answers without
		// 201 or a Location is a search, a login or another action.
		return
	}
	if res.Delete == nil {
		r.leftBehind(o.op, ex, "the API has no DELETE for it")
		o.halted = true
		return
	}
	key := createdKey(res, req.Body, ex)
	if key == "" {
		r.leftBehind(o.op, ex, "its key was not in the answer")
		o.halted = true
		return
	}
	if why := r.remove(ctx, res, key); why != "" {
		r.leftBehind(o.op, ex, why)
		o.halted = true
	}
}

// leftBehind notes, once per operation, that objects op created may be
// left behind.
func (r *runner) leftBehind(op *scan.Operation, ex *scan.Exchange, why string) {
	if r.noted[op] {
		return
	}
	r.noted[op] = true
	r.t.Notes.Add(fmt.Sprintf("%s could not clean up after %s (it answered %d): %s; objects it created may have been left behind, "+
		"and its remaining probes were skipped", r.meta.ID, probe.Name(op), ex.Response.Status, why))
}

// remove deletes the object under key as the probes' identity and says
// why it could not, or "" when it did.
func (r *runner) remove(ctx context.Context, res *property.Resource, key string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	del := probe.Path(r.t, res.Delete, map[string]string{res.Param: key})
	ex, err := r.h.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: del, Operation: res.Delete})
	switch {
	case err != nil:
		return fmt.Sprintf("DELETE %s failed: %v", del, err)
	case !success(ex):
		return fmt.Sprintf("DELETE %s answered %d", del, ex.Response.Status)
	}
	return ""
}

// createdKey finds the key of the object a create made: the key field,
// else an id, uuid or _id, of its answer (unwrapping {"data": {...}});
// else the key field of the body sent; else the last segment of a
// Location header. "" when none has it.
func createdKey(res *property.Resource, sent []byte, ex *scan.Exchange) string {
	answer := object(ex.Response.Raw)
	if inner, isObj := answer["data"].(map[string]any); isObj && len(answer) <= 2 {
		answer = inner
	}
	for _, name := range []string{res.Param, "id", "uuid", "_id"} {
		if v := keyValue(answer[name]); v != "" {
			return v
		}
	}
	if v := keyValue(object(sent)[res.Param]); v != "" {
		return v
	}
	if u, err := url.Parse(ex.Response.Header.Get("Location")); err == nil && u.Path != "" {
		if last := path.Base(strings.TrimRight(u.Path, "/")); last != "." && last != "/" {
			if v, err := url.PathUnescape(last); err == nil {
				return v
			}
		}
	}
	return ""
}

// object decodes a JSON object, keeping numbers exact; nil for anything
// else.
func object(raw []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

// keyValue is v as a key: a non-empty string or a number.
func keyValue(v any) string {
	switch v := v.(type) {
	case string, json.Number:
		return scalar(v)
	}
	return ""
}

func success(ex *scan.Exchange) bool {
	return ex != nil && ex.Response.Status >= 200 && ex.Response.Status <= 299
}
