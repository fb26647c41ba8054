// Package llm holds Merlon's checks of LLM-backed endpoints: system-prompt
// leakage, prompt injection, jailbreaks, exfiltration through markdown,
// excessive agency and unsafe output.
//
// Every probe is a POST, and each costs the target's owner a model call,
// so every check here is active. The checks of one Family act together
// as one careful client of each target (see Family): they find the
// endpoints once (OpenAI-compatible /v1/chat/completions and
// /v1/completions, and /chat, /api/chat, /ask, /prompt plus inventory POST
// operations on such paths, asked "Hello"), send every request to a model
// one at a time, Delay after the one before it ended, and stop at MaxTime
// for all of them together. An endpoint counts only when it answers in a
// chat shape: OpenAI choices, or a JSON reply/response/answer/output/
// content/text field, or an event stream of such chunks.
//
// Probes are written so that an API which merely echoes its input cannot
// pass them: the expected token never appears in the prompt as such (the
// model is asked to join its parts), and markers are searched only in
// replies that do not contain the prompt.
package llm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// Defaults for Config.
const (
	// DefaultDelay separates two requests to a model.
	DefaultDelay = 500 * time.Millisecond
	// DefaultMaxTime caps a family's whole run on one target, detection
	// included.
	DefaultMaxTime = 60 * time.Second
)

// Paths are where chat endpoints are usually served.
var Paths = []string{"/v1/chat/completions", "/chat/completions", "/v1/completions", "/chat", "/api/chat", "/ask", "/prompt"}

const (
	maxEndpoints  = 2
	maxCandidates = 10
)

// Config paces a family of checks. The zero value uses the defaults.
type Config struct {
	// Delay is the pause between the end of one request to a model and
	// the start of the next; negative for none.
	Delay time.Duration
	// MaxTime caps the run of all the family's checks on one target,
	// counted from the first one's start.
	MaxTime time.Duration
}

func (c Config) delay() time.Duration {
	switch {
	case c.Delay < 0:
		return 0
	case c.Delay == 0:
		return DefaultDelay
	}
	return c.Delay
}

func (c Config) maxTime() time.Duration {
	if c.MaxTime <= 0 {
		return DefaultMaxTime
	}
	return c.MaxTime
}

// shape is how an endpoint wants its prompt.
type shape int

const (
	chatShape       shape = iota // {"messages":[{"role":"user","content":…}]}
	completionShape              // {"prompt":…}
	simpleShape                  // {"message":…,"prompt":…,"question":…,"input":…,"query":…}
)

// Endpoint is a path found to answer prompts.
type Endpoint struct {
	Path  string
	shape shape
}

// Reply is what a model answered.
type Reply struct {
	Text string
	// ToolCalls are the function names and arguments the answer carries.
	ToolCalls []ToolCall
	// HTML holds string fields whose names say they are HTML.
	HTML []string
	// MediaType is the response's.
	MediaType string
}

// ToolCall is one function call in an answer.
type ToolCall struct{ Name, Arguments string }

// run is one check's run inside its target's session: the shared pacing
// and endpoints, and the check's own Sender, so that each check reports
// its own failures.
type run struct {
	*session
	s *probe.Sender
}

// start joins t's session in f (a private one when f is nil), finding the
// endpoints if no check has yet. The returned ctx ends at the session's
// time cap; cancel must be called.
func start(ctx context.Context, f *Family, t *scan.Target, h scan.Requester) (context.Context, context.CancelFunc, *run, error) {
	if f == nil {
		f = NewFamily(Config{})
	}
	ss := f.session(t)
	ctx, cancel := context.WithDeadline(ctx, ss.deadline)
	if !time.Now().Before(ss.deadline) {
		return ctx, cancel, nil, scan.Skip(fmt.Sprintf("the LLM checks' time cap (%s) ran out before this check's turn", ss.cfg.maxTime()))
	}
	ss.discover(ctx, t, h)
	if len(ss.eps) == 0 {
		if ss.err != nil {
			return ctx, cancel, nil, ss.err
		}
		return ctx, cancel, nil, scan.Skip("no LLM endpoint found")
	}
	return ctx, cancel, &run{session: ss, s: probe.NewSender(h)}, nil
}

func candidates(t *scan.Target) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] && len(out) < maxCandidates {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, op := range t.Operations {
		if op == nil || op.Method != http.MethodPost || strings.Contains(op.Path, "{") {
			continue
		}
		for _, p := range Paths {
			if strings.HasSuffix(op.Path, p) {
				add(op.Path)
			}
		}
	}
	for _, p := range Paths {
		add(p)
	}
	return out
}

// ask sends prompt to ep in its turn.
func (r *run) ask(ctx context.Context, ep Endpoint, prompt string) (*scan.Exchange, Reply) {
	return r.session.send(ctx, r.s, ep, prompt)
}

// body is prompt in ep's shape.
func body(ep Endpoint, prompt string) []byte {
	var v any
	switch ep.shape {
	case chatShape:
		v = map[string]any{"model": "default", "messages": []any{map[string]string{"role": "user", "content": prompt}}}
	case completionShape:
		v = map[string]any{"model": "default", "prompt": prompt, "max_tokens": 200}
	default:
		v = map[string]any{"message": prompt, "prompt": prompt, "question": prompt, "input": prompt, "query": prompt}
	}
	raw, _ := json.Marshal(v)
	return raw
}

// replyKeys are field names simple chat APIs answer in.
var replyKeys = []string{"reply", "response", "answer", "output", "completion", "content", "text", "message", "result"}

// parse reads an answer in any of the shapes the package knows.
func parse(ex *scan.Exchange) Reply {
	r := Reply{MediaType: probe.MediaType(ex.Response.Header)}
	raw := ex.Response.Raw
	if r.MediaType == "text/event-stream" {
		var b strings.Builder
		for _, line := range bytes.Split(raw, []byte("\n")) {
			data, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data:"))
			if !ok {
				continue
			}
			var chunk map[string]any
			if json.Unmarshal(bytes.TrimSpace(data), &chunk) == nil {
				b.WriteString(fromChoices(chunk, &r))
			}
		}
		r.Text = b.String()
		return r
	}
	if r.MediaType == "text/html" || r.MediaType == "text/plain" {
		r.Text = string(raw)
		return r
	}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return r
	}
	if _, ok := doc["choices"]; ok {
		r.Text = fromChoices(doc, &r)
	} else {
		for _, k := range replyKeys {
			if s, ok := doc[k].(string); ok {
				r.Text = s
				break
			}
			if m, ok := doc[k].(map[string]any); ok { // {"message":{"role":…,"content":…}}
				if s, ok := m["content"].(string); ok {
					r.Text = s
					break
				}
			}
		}
		r.ToolCalls = append(r.ToolCalls, toolCalls(doc["tool_calls"])...)
	}
	for k, v := range doc {
		if s, ok := v.(string); ok && strings.Contains(strings.ToLower(k), "html") {
			r.HTML = append(r.HTML, s)
		}
	}
	return r
}

// fromChoices reads choices[].message.content, .delta.content or .text,
// and collects tool calls.
func fromChoices(doc map[string]any, r *Reply) string {
	choices, _ := doc["choices"].([]any)
	var b strings.Builder
	for _, c := range choices {
		cm, _ := c.(map[string]any)
		if s, ok := cm["text"].(string); ok {
			b.WriteString(s)
		}
		for _, k := range []string{"message", "delta"} {
			m, _ := cm[k].(map[string]any)
			if s, ok := m["content"].(string); ok {
				b.WriteString(s)
			}
			r.ToolCalls = append(r.ToolCalls, toolCalls(m["tool_calls"])...)
			if fc, ok := m["function_call"].(map[string]any); ok {
				r.ToolCalls = append(r.ToolCalls, toolCalls([]any{map[string]any{"function": fc}})...)
			}
		}
	}
	return b.String()
}

func toolCalls(v any) []ToolCall {
	list, _ := v.([]any)
	var out []ToolCall
	for _, item := range list {
		m, _ := item.(map[string]any)
		fn, _ := m["function"].(map[string]any)
		name, _ := fn["name"].(string)
		if name == "" {
			continue
		}
		args, _ := fn["arguments"].(string)
		if args == "" {
			b, _ := json.Marshal(fn["arguments"])
			args = string(b)
		}
		out = append(out, ToolCall{Name: name, Arguments: args})
	}
	return out
}

// token returns a random lower-case hex tag.
func token() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// echoes reports a reply that contains the prompt itself: an echo, in
// which no marker counts.
func echoes(r Reply, prompt string) bool {
	return strings.Contains(r.Text, prompt) || strings.Contains(strings.Join(r.HTML, "\n"), prompt)
}
