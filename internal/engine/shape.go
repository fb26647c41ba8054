package engine

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Bounds past which a response's shape counts against the target.
const (
	// maxHeaderFields is how many header values a response may carry:
	// real APIs send a few dozen, and thousands cost every reader.
	maxHeaderFields = 1000
	// maxJSONDepth is how deeply a JSON body may nest. Merlon's JSON
	// readers stop at this depth (fill.MaxWalkDepth), so values below it
	// are never read.
	maxJSONDepth = 64
)

// shapeCounts count responses whose shape is hostile or broken: what
// Stats reports as ManyHeaders, InvalidJSON, InvalidUTF8 and DeepJSON.
type shapeCounts struct {
	manyHeaders, invalidJSON, invalidUTF8, deepJSON, offScope atomic.Int64
}

// inspect counts what is wrong with one response: too many header
// values; and, for a complete body, text that is not UTF-8 where the
// media type says it is, and a JSON body that does not parse or nests
// past maxJSONDepth. A body cut at the cap is not judged: its end is
// missing by Merlon's choice.
func (c *shapeCounts) inspect(h http.Header, body []byte, truncated bool) {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	if n > maxHeaderFields {
		c.manyHeaders.Add(1)
	}
	if truncated || len(body) == 0 {
		return
	}
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	charset := strings.ToLower(params["charset"])
	isUTF8 := isJSON || (strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+xml") || mt == "application/xml") &&
		(charset == "" || charset == "utf-8" || charset == "utf8")
	if isUTF8 && !utf8.Valid(body) {
		c.invalidUTF8.Add(1)
	}
	if !isJSON {
		return
	}
	if tooDeep(body, maxJSONDepth) {
		c.deepJSON.Add(1)
	} else if !json.Valid(body) {
		c.invalidJSON.Add(1)
	}
}

// tooDeep reports whether the JSON text b opens more than max arrays and
// objects at once, reading it once and stopping as soon as it does.
func tooDeep(b []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, ch := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inString = false
			}
		case ch == '"':
			inString = true
		case ch == '[' || ch == '{':
			if depth++; depth > max {
				return true
			}
		case ch == ']' || ch == '}':
			depth--
		}
	}
	return false
}
