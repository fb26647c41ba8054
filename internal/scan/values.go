package scan

import "sync"

// ValueBank remembers values seen in responses, by property name, so that
// a later request can fill {id} with an ID that exists. It is safe for
// concurrent use.
type ValueBank struct {
	mu   sync.Mutex
	vals map[string][]string
}

// maxValuesPerName bounds memory on APIs that return huge lists.
const maxValuesPerName = 16

// Add records value under name, ignoring repeats and values past the cap.
func (b *ValueBank) Add(name, value string) {
	if b == nil || name == "" || value == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.vals == nil {
		b.vals = make(map[string][]string)
	}
	vs := b.vals[name]
	if len(vs) >= maxValuesPerName {
		return
	}
	for _, v := range vs {
		if v == value {
			return
		}
	}
	b.vals[name] = append(vs, value)
}

// Get returns the first value recorded under name, if any.
func (b *ValueBank) Get(name string) (string, bool) {
	if b == nil {
		return "", false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	vs := b.vals[name]
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// All returns a copy of the values recorded under name.
func (b *ValueBank) All(name string) []string {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.vals[name]...)
}

// Notes collects remarks that checks make about the scan itself rather than
// about the target's weaknesses, such as objects an active probe created
// and could not delete. They end up in the report's warnings. It is safe for
// concurrent use.
type Notes struct {
	mu    sync.Mutex
	notes []string
}

// Add records a note.
func (n *Notes) Add(note string) {
	if n == nil || note == "" {
		return
	}
	n.mu.Lock()
	n.notes = append(n.notes, note)
	n.mu.Unlock()
}

// All returns a copy of the notes in the order they were added.
func (n *Notes) All() []string {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.notes...)
}
