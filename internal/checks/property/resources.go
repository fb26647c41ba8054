package property

import (
	"net/http"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// Resource is a collection and its items, with the operations that
// create, read, update, delete and list them. Mass assignment is a
// property of a resource: what a create or update accepts is judged by
// what a later read returns.
type Resource struct {
	// Collection is the collection's path template ("/users"), Item the
	// item's ("/users/{username}") and Param the item's last path
	// parameter ("username").
	Collection, Item, Param string

	Create *scan.Operation // POST Collection
	List   *scan.Operation // GET Collection
	Read   *scan.Operation // GET Item
	Update *scan.Operation // PATCH Item, else PUT Item
	Delete *scan.Operation // DELETE Item
}

// Writable reports whether clients can write the resource at all; a
// resource without a create or update has no mass-assignment surface.
func (r *Resource) Writable() bool { return r.Create != nil || r.Update != nil }

// Discovered reports whether the resource's write operations were
// inferred by discovery rather than read from a spec. Their body schemas
// list every property seen in reads, so they say nothing about what the
// API means clients to send.
func (r *Resource) Discovered() bool {
	for _, op := range []*scan.Operation{r.Create, r.Update} {
		if op != nil && op.Source == "discovered" {
			return true
		}
	}
	return false
}

// Resources groups ops into resources: an item path is a path whose last
// segment is one {parameter}, and its collection is the path without that
// segment. Only writable resources are returned, sorted by collection.
func Resources(ops []*scan.Operation) []*Resource {
	byItem := make(map[string]*Resource)
	byColl := make(map[string]*Resource)
	get := func(coll, item, param string) *Resource {
		if r := byColl[coll]; r != nil {
			if r.Item == "" && item != "" {
				r.Item, r.Param = item, param
				byItem[item] = r
			}
			return r
		}
		r := &Resource{Collection: coll, Item: item, Param: param}
		byColl[coll] = r
		if item != "" {
			byItem[item] = r
		}
		return r
	}
	// Items first, so that each collection learns its item template.
	for _, op := range ops {
		if op == nil {
			continue
		}
		if coll, param, ok := splitItem(op.Path); ok {
			r := get(coll, op.Path, param)
			if r.Item != op.Path {
				continue // a second item template under one collection
			}
			switch strings.ToUpper(op.Method) {
			case http.MethodGet:
				r.Read = op
			case http.MethodPatch:
				r.Update = op
			case http.MethodPut:
				if r.Update == nil || r.Update.Method != http.MethodPatch {
					r.Update = op
				}
			case http.MethodDelete:
				r.Delete = op
			}
		}
	}
	for _, op := range ops {
		if op == nil {
			continue
		}
		if _, _, ok := splitItem(op.Path); ok {
			continue
		}
		coll := strings.TrimRight(op.Path, "/")
		if coll == "" {
			continue
		}
		switch strings.ToUpper(op.Method) {
		case http.MethodPost:
			get(coll, "", "").Create = op
		case http.MethodGet:
			if r := byColl[coll]; r != nil {
				r.List = op
			} else {
				get(coll, "", "").List = op
			}
		}
	}
	var out []*Resource
	for _, r := range byColl {
		if r.Writable() {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Collection < out[j].Collection })
	return out
}

// splitItem splits "/users/{username}" into "/users" and "username".
func splitItem(path string) (coll, param string, ok bool) {
	path = strings.TrimRight(path, "/")
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "", "", false
	}
	last := path[i+1:]
	if len(last) < 3 || last[0] != '{' || last[len(last)-1] != '}' || strings.ContainsAny(last[1:len(last)-1], "{}") {
		return "", "", false
	}
	return path[:i], last[1 : len(last)-1], true
}

// writeSchema is the body schema of a write operation, or nil.
func writeSchema(op *scan.Operation) *scan.Schema {
	if op == nil || op.RequestBody == nil {
		return nil
	}
	return op.RequestBody.Schema
}

// readSchema is the object schema a read of the resource returns: the
// item read's 2xx response, else the items of the list's.
func readSchema(r *Resource) *scan.Schema {
	if s := okSchema(r.Read); s != nil {
		return s
	}
	s := okSchema(r.List)
	if s == nil {
		return nil
	}
	if s.Items != nil {
		return s.Items
	}
	// A wrapped list, {"users": [...]}: the first array of objects.
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if p := s.Properties[n]; p != nil && p.Items != nil && len(p.Items.Properties) > 0 {
			return p.Items
		}
	}
	return nil
}

// okSchema is the schema of op's first 2xx response, by status code.
func okSchema(op *scan.Operation) *scan.Schema {
	if op == nil {
		return nil
	}
	codes := make([]string, 0, len(op.Responses))
	for c := range op.Responses {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		if strings.HasPrefix(c, "2") && op.Responses[c] != nil && op.Responses[c].Schema != nil {
			return op.Responses[c].Schema
		}
	}
	return nil
}
