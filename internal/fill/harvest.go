package fill

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// Harvest's limits are tighter than Walk's: it runs on every response a
// scan reads, and only the top of a document names the objects in it.
const (
	harvestDepth = 32
	harvestNodes = 10_000
	// maxHarvestLen skips values too long to be an identifier.
	maxHarvestLen = 256
)

// IsIDLike reports whether a property or parameter name looks like it holds
// an identifier: "id", "uuid", or a name ending in "_id", "Id" or "ID"
// ("user_id", "userId").
func IsIDLike(name string) bool {
	switch strings.ToLower(name) {
	case "id", "uuid", "_id":
		return true
	}
	if len(name) <= 2 {
		return false
	}
	return strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "Id") ||
		strings.HasSuffix(name, "ID") || strings.HasSuffix(name, "_uuid") ||
		strings.HasSuffix(name, "Uuid")
}

// harvestable reports whether values under key are worth remembering as
// parameter values: identifiers, and the names objects are often addressed
// by.
func harvestable(key string) bool {
	if IsIDLike(key) {
		return true
	}
	switch key {
	case "username", "slug", "name":
		return true
	}
	return false
}

// Harvest records into vals the scalar values of ID-like members ("id",
// "*_id", "*Id", "uuid", "username", "slug", "name") found in the JSON
// body, under their member name, so that later requests can address
// objects that exist. Shallower values are recorded first, so that a
// collection's own IDs come before the IDs of objects nested in its items.
// Bodies that are not JSON, and OpenAPI or Swagger documents (whose
// "name" members name parameters), are ignored; hostile ones are read only
// to a bounded depth and size.
func Harvest(vals *scan.ValueBank, body []byte) {
	if vals == nil {
		return
	}
	type found struct {
		depth      int
		key, value string
	}
	var all []found
	spec := false
	// An error means the body is not JSON or is past the limits; what was
	// visited before is still good.
	_ = walk(body, harvestDepth, harvestNodes, func(path []string, key string, value any) bool {
		if len(path) == 0 && (key == "openapi" || key == "swagger") {
			spec = true
			return false
		}
		if !harvestable(key) {
			return true
		}
		var s string
		switch v := value.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		default:
			return true
		}
		if s != "" && len(s) <= maxHarvestLen {
			all = append(all, found{len(path), key, s})
		}
		return true
	})
	if spec {
		// An API description names its parameters with "name" members:
		// those are parameter names, not objects that exist.
		return
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].depth < all[j].depth })
	for _, f := range all {
		vals.Add(f.key, f.value)
	}
}
