package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// largeBody is the size of the padded body NoRequestSizeLimit sends:
// well over the 1 MiB most frameworks and proxies accept by default.
const largeBody = 5 << 20

// paddingField is the property that carries the padding.
const paddingField = "merlon_padding"

// NoRequestSizeLimit creates one object with a 5 MiB JSON body and reports
// the create when it succeeds, then deletes the object.
type NoRequestSizeLimit struct{}

var _ scan.Check = NoRequestSizeLimit{}

// Meta describes the check.
func (NoRequestSizeLimit) Meta() scan.Meta {
	return scan.Meta{
		ID:          "resource.no-request-size-limit",
		Family:      "resource",
		Title:       "No request body size limit",
		Category:    scan.API4ResourceConsumption,
		CWE:         770,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Active:      true,
		Description: "Picks one resource with a JSON create (POST) and a DELETE, sends one create whose valid " +
			"body is padded with a 5 MiB string property (merlon_padding), and reports when it is answered 2xx. " +
			"The object created is then deleted. One large request per scan.",
	}
}

// Run sends the padded create.
func (c NoRequestSizeLimit) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	var r *property.Resource
	for _, cand := range property.Resources(t.Operations) {
		if cand.Create != nil && cand.Delete != nil && cand.Create.RequestBody != nil &&
			probe.IsJSON(strings.ToLower(cand.Create.RequestBody.ContentType)) {
			r = cand
			break
		}
	}
	if r == nil {
		return nil, scan.Skip("no resource with a JSON create and a delete to clean up with")
	}
	body, _ := fill.Body(r.Create.RequestBody.Schema).(map[string]any)
	if body == nil {
		body = map[string]any{}
	}
	body[paddingField] = strings.Repeat("A", largeBody)
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode padded body: %w", err)
	}
	s := probe.NewSender(h)
	ex := s.Do(ctx, &scan.Request{
		Method:    http.MethodPost,
		Path:      probe.Path(t, r.Create, nil),
		Header:    http.Header{"Content-Type": {"application/json"}},
		Body:      raw,
		Operation: r.Create,
	})
	if ex == nil {
		return nil, s.Err()
	}
	if ex.Response.Status/100 != 2 {
		return nil, s.Err()
	}
	deleted := cleanup(ctx, t, h, r, ex)
	f := probe.Finding(c.Meta(), t, probe.Name(r.Create), "")
	f.Confidence = scan.Likely
	f.Description = fmt.Sprintf("A %d MiB JSON body was accepted with %d. Without a body size limit, a few "+
		"large requests can tie up memory, bandwidth and storage.", largeBody>>20, ex.Response.Status)
	f.Evidence = []scan.Evidence{probe.Evidence(shorten(ex), fmt.Sprintf("%d-byte request body accepted", len(raw)), fmt.Sprint(ex.Response.Status))}
	if deleted != nil {
		f.Evidence = append(f.Evidence, probe.Evidence(deleted, "clean-up of the object created", ""))
	}
	return []scan.Finding{f}, s.Err()
}

// cleanupTimeout bounds the delete, which runs even after ctx ends.
const cleanupTimeout = 10 * time.Second

// cleanup deletes what the create made, keyed by the item parameter (or
// "id") of the created object, and notes on the target when it cannot.
func cleanup(ctx context.Context, t *scan.Target, h scan.Requester, r *property.Resource, created *scan.Exchange) *scan.Exchange {
	var obj map[string]any
	_ = json.Unmarshal(created.Response.Raw, &obj)
	key := ""
	for _, name := range []string{r.Param, "id"} {
		if v, ok := obj[name]; ok && v != nil {
			key = fmt.Sprint(v)
			if f, isNum := v.(float64); isNum {
				key = fmt.Sprintf("%.0f", f)
			}
			break
		}
	}
	if key == "" {
		note(t, fmt.Sprintf("resource.no-request-size-limit could not clean up: the create on %s returned no %q", r.Collection, r.Param))
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	path := probe.Path(t, r.Delete, map[string]string{r.Param: key})
	ex, err := h.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: path, Operation: r.Delete})
	switch {
	case err != nil:
		note(t, fmt.Sprintf("resource.no-request-size-limit could not clean up: DELETE %s failed: %v", path, err))
	case ex.Response.Status >= 300 && ex.Response.Status != http.StatusNotFound:
		note(t, fmt.Sprintf("resource.no-request-size-limit could not clean up: DELETE %s answered %d", path, ex.Response.Status))
	}
	return ex
}

func note(t *scan.Target, msg string) {
	if t.Notes != nil {
		t.Notes.Add(msg)
	}
}
