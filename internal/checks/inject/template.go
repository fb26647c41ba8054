package inject

import (
	"bytes"
	"context"
	"fmt"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// syntaxes are the expression delimiters of common template engines.
var syntaxes = []struct {
	name       string
	open, shut string
}{
	{"{{ }} (Jinja2, Twig, Nunjucks, Handlebars helpers)", "{{", "}}"},
	{"${ } (Mako, FreeMarker, Thymeleaf, JavaScript template literals)", "${", "}"},
	{"<%= %> (ERB, EJS)", "<%= ", " %>"},
	{"#{ } (Pug, Ruby interpolation, Thymeleaf)", "#{", "}"},
	{"{{= }} (doT)", "{{=", "}}"},
}

func templatePoint(ctx context.Context, p *pointRun) *scan.Finding {
	v := p.pt.value
	for _, s := range syntaxes {
		payload, want := tmplMarker(v, s.open, s.shut)
		ex := p.send(ctx, payload)
		if ex == nil || !contains(ex, want) || contains(ex, payload) || p.base.contains(want) {
			continue
		}
		payload2, want2 := tmplMarker(v, s.open, s.shut)
		ex2 := p.send(ctx, payload2)
		if ex2 == nil || !contains(ex2, want2) {
			continue
		}
		desc := fmt.Sprintf("%s is rendered as a template: %q came back as %q, a product only template evaluation "+
			"computes, and a second expression with other numbers was evaluated too (syntax %s). Template "+
			"expressions reach the engine's objects, which in most engines means running code on the server.",
			upper(p.where()), payload, want, s.name)
		return p.finding(scan.Confirmed, fmt.Sprintf("Server-side template injection in %s", p.pt.name), desc, "", []scan.Evidence{
			probe.Evidence(ex, "template expression evaluated", want),
			probe.Evidence(ex2, "second expression evaluated", want2),
		})
	}
	return nil
}

// tmplMarker wraps a*b, for random a and b, in the syntax's delimiters
// between two marker letters: mrl{{a*b}}z renders as mrl<product>z.
func tmplMarker(v, open, shut string) (payload, want string) {
	a, b := factor(100, 999), factor(100, 999)
	return v + "mrl" + open + itoa(a) + "*" + itoa(b) + shut + "z", "mrl" + itoa(a*b) + "z"
}

func containsBytes(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
