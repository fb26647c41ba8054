package fill

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits of Walk. Response bodies come from the target, which may be
// hostile, so the walker bounds how much it reads, how deep it goes and how
// many values it visits.
const (
	MaxWalkBytes = 8 << 20
	MaxWalkDepth = 64
	MaxWalkNodes = 100_000
)

// Errors Walk returns when a body is past its limits. The values visited
// before the limit was reached have been passed to fn.
var (
	ErrTooLarge = errors.New("json body too large")
	ErrTooDeep  = errors.New("json nesting too deep")
)

// Object and Array stand for a container value in Walk's callback; the
// container's members are visited right after it, with its key on the path.
type (
	Object struct{}
	Array  struct{}
)

// Walk visits every value in the JSON document body, in document order,
// except the root itself. For a member of an object, key is the member name;
// for an element of an array, it is the element's index in decimal. path
// holds the keys leading to the container that holds the value (empty for
// members of the root); fn must not modify it and must copy it to keep it.
//
// value is a string, json.Number, bool, nil (JSON null), Object or Array.
// Numbers stay json.Number so that large IDs survive intact.
//
// fn returns false to stop the walk, in which case Walk returns nil. Walk
// returns an error, having called fn for nothing, when body is not valid
// JSON or is larger than MaxWalkBytes; it returns ErrTooDeep or ErrTooLarge
// (wrapped) when it stops at MaxWalkDepth or MaxWalkNodes.
func Walk(body []byte, fn func(path []string, key string, value any) bool) error {
	return walk(body, MaxWalkDepth, MaxWalkNodes, fn)
}

// walk is Walk with its depth and node limits as parameters, so that
// Harvest can use tighter ones.
func walk(body []byte, maxDepth, maxNodes int, fn func(path []string, key string, value any) bool) error {
	if len(body) > MaxWalkBytes {
		return fmt.Errorf("walk json: %w (%d bytes)", ErrTooLarge, len(body))
	}
	if !json.Valid(body) {
		return errors.New("walk json: invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()

	type frame struct {
		object   bool
		key      string // the pending member name, in an object
		haveKey  bool
		elements int // elements seen so far, in an array
	}
	var (
		stack []frame
		path  []string
		nodes int
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("walk json: %w", err)
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				path = path[:len(path)-1]
			}
			continue
		}
		var key string
		if n := len(stack); n > 0 {
			f := &stack[n-1]
			if f.object {
				if !f.haveKey {
					f.key, f.haveKey = tok.(string), true
					continue
				}
				key, f.haveKey = f.key, false
			} else {
				key = strconv.Itoa(f.elements)
				f.elements++
			}
		}

		value := tok
		open := false
		if d, ok := tok.(json.Delim); ok {
			open = true
			if d == '{' {
				value = Object{}
			} else {
				value = Array{}
			}
		}
		if len(stack) > 0 {
			nodes++
			if nodes > maxNodes {
				return fmt.Errorf("walk json: %w (more than %d values)", ErrTooLarge, maxNodes)
			}
			if !fn(path[:len(path):len(path)], key, value) {
				return nil
			}
		}
		if open {
			if len(stack) >= maxDepth {
				return fmt.Errorf("walk json: %w (more than %d levels)", ErrTooDeep, maxDepth)
			}
			if len(stack) > 0 {
				path = append(path, key)
			}
			_, object := value.(Object)
			stack = append(stack, frame{object: object})
		}
	}
}
