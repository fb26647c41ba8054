package property

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// cleanupTimeout bounds clean-up, which runs even when the scan's context
// has ended: leaving objects behind is worse than overrunning a little.
const cleanupTimeout = 10 * time.Second

// cleanup deletes every object the probe created, under its current key
// (a renamed object is deleted under its new name), and notes on the
// target each one it could not delete.
func (p *prober) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, o := range p.objects {
		left := p.item(p.r.Read, o.key)
		if p.r.Delete == nil {
			p.t.Notes.Add(fmt.Sprintf("%s could not clean up %s (created by POST %s): the API has no DELETE for it",
				p.meta.ID, left, p.r.Collection))
			continue
		}
		del := p.item(p.r.Delete, o.key)
		ex, err := p.h.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: del, Operation: p.r.Delete, Identity: identity(p.t)})
		switch {
		case err != nil:
			p.t.Notes.Add(fmt.Sprintf("%s could not clean up: DELETE %s failed: %v", p.meta.ID, del, err))
		case ex.Response.Status >= 300 && ex.Response.Status != http.StatusNotFound && ex.Response.Status != http.StatusGone:
			p.t.Notes.Add(fmt.Sprintf("%s could not clean up: DELETE %s answered %d", p.meta.ID, del, ex.Response.Status))
		}
	}
}
