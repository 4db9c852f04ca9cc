package playbooks

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	gonjanodes "github.com/nikolalohinski/gonja/v2/nodes"
)

// maxTemplateDepth bounds the rendering of variables whose values are themselves
// templates (a: "{{ b }}", b: "{{ a }}").
const maxTemplateDepth = 32

// singleVar matches `{{ name }}`, which Ansible answers from the variable directly when it
// holds a bool or a number.
var singleVar = regexp.MustCompile(`^\{\{\s*(\w*)\s*\}\}$`)

// render is Render at a depth of variable-in-variable rendering.
func (t *Templar) render(s string, vars map[string]any, depth int) (any, error) {
	if !IsTemplate(s) {
		return s, nil
	}
	if m := singleVar.FindStringSubmatch(s); m != nil {
		if v, ok := vars[m[1]]; ok {
			switch v.(type) {
			case bool, int, float64, *big.Int:
				return v, nil
			case nil:
				return nil, nil
			}
		}
	}
	st := &renderState{}
	out, p, err := t.renderTextState(s, vars, depth, st)
	if err != nil {
		return nil, err
	}
	if st.nativeText && p.single {
		return out, nil
	}
	return literalOrText(out), nil
}

// renderText renders s to text: Jinja's output, with the trailing newlines of s kept.
func (t *Templar) renderText(s string, vars map[string]any, depth int) (string, error) {
	out, _, err := t.renderTextState(s, vars, depth, &renderState{})
	return out, err
}

// renderTextState renders s to text, recording in st what Render needs to know, and
// returns the parsed template too.
func (t *Templar) renderTextState(s string, vars map[string]any, depth int, st *renderState) (out string, p *parsedTemplate, err error) {
	if depth > maxTemplateDepth {
		return "", nil, &TemplateError{Template: s, Err: errors.New("recursive loop detected in template string")}
	}
	p, err = t.parse(s)
	if err != nil {
		return "", nil, err
	}
	data, err := t.resolveVars(p, vars, depth)
	if err != nil {
		return "", nil, err
	}
	data[stateVar] = st
	defer func() {
		if r := recover(); r != nil {
			out, err = "", &TemplateError{Template: s, Err: fmt.Errorf("internal template engine error: %v", r)}
		}
	}()
	var buf bytes.Buffer
	if err := p.tpl.Execute(&buf, exec.NewContext(data)); err != nil {
		return "", nil, &TemplateError{Template: s, Err: cleanError(err)}
	}
	return keepTrailingNewlines(s, buf.String()), p, nil
}

// keepTrailingNewlines appends the newlines Jinja drops from the end of the output.
func keepTrailingNewlines(src, out string) string {
	want := len(src) - len(strings.TrimRight(src, "\n"))
	have := len(out) - len(strings.TrimRight(out, "\n"))
	if want > have {
		out += strings.Repeat("\n", want-have)
	}
	return out
}

// templateConfig is Ansible's Jinja configuration: trim_blocks on, strict undefined.
func templateConfig() *config.Config {
	c := config.New()
	c.StrictUndefined = true
	c.TrimBlocks = true
	return c
}

// parsedTemplate is a parsed template and the variables, filters and tests it names.
type parsedTemplate struct {
	tpl     *exec.Template
	names   map[string]bool
	filters []string
	tests   []string
	single  bool // the template is one `{{ }}` and nothing else
}

// parse parses s into a template with kpx's rendering rules applied, from the cache when
// it has been parsed before.
func (t *Templar) parse(s string) (p *parsedTemplate, err error) {
	if v, ok := t.cache.Load(s); ok {
		return v.(*parsedTemplate), nil
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &TemplateError{Template: s, Err: fmt.Errorf("syntax error: %v", r)}
		}
	}()
	loader, err := loaders.NewMemoryLoader(map[string]string{"/template": rewriteTestKwargs(escapeBackslashes(s))})
	if err != nil {
		return nil, &TemplateError{Template: s, Err: err}
	}
	tpl, err := exec.NewTemplate("/template", templateConfig(), loader, t.env)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, &TemplateError{Template: s, Err: syntaxError(err)}
	}
	rewriteOutputs(tpl.Root())
	p = &parsedTemplate{tpl: tpl, names: templateNames(tpl.Root())}
	p.filters, p.tests = templateCalls(tpl.Root())
	if nodes := tpl.Root().Nodes; len(nodes) == 1 {
		_, p.single = nodes[0].(*gonjanodes.Output)
	}
	t.mu.Lock()
	if t.cached < maxCachedTemplates {
		t.cached++
		t.cache.Store(s, p)
	}
	t.mu.Unlock()
	return p, nil
}

// asTemplateError is errors.As for *TemplateError.
func asTemplateError(err error, target **TemplateError) bool {
	return errors.As(err, target)
}
