package playbooks

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// Omit is the value of the `omit` template variable, as Ansible's `omit` placeholder: a
// module argument that renders to exactly this string must be dropped by the module layer
// (see IsOmit).
const Omit = "__omit_place_holder__kpx"

// IsOmit reports whether v is the omit placeholder.
func IsOmit(v any) bool {
	s, ok := v.(string)
	return ok && s == Omit
}

// TemplarOptions configures a Templar.
type TemplarOptions struct {
	// SearchDirs are the directories lookup('file', ...) searches, in order, for a relative
	// path (Ansible searches the role/playbook directory and its files/ subdirectory).
	SearchDirs []string
	// Getenv serves lookup('env', ...); nil means os.Getenv.
	Getenv func(string) string
}

// Templar renders Jinja2 templates with Ansible's meaning. It is safe for concurrent use.
type Templar struct {
	env    *exec.Environment
	getenv func(string) string
	dirs   []string
	cache  sync.Map // template source -> *parsedTemplate
	cached int64
	mu     sync.Mutex
}

// maxCachedTemplates bounds the parse cache (playbook strings are a bounded set; this
// guards against templates built from data).
const maxCachedTemplates = 20000

// NewTemplar builds a Templar with its own Jinja environment: Jinja's builtin filters and
// tests plus Ansible's, and the `lookup`, `query`/`q` and `omit` globals.
func NewTemplar(opts TemplarOptions) *Templar {
	t := &Templar{getenv: opts.Getenv, dirs: append([]string(nil), opts.SearchDirs...)}
	if t.getenv == nil {
		t.getenv = os.Getenv
	}
	t.env = t.newEnvironment()
	return t
}

// TemplateError is a failure to parse or render a template.
type TemplateError struct {
	Template string // the source text
	Err      error
}

// Error words the failure as Ansible does: the reason, then the template.
func (e *TemplateError) Error() string {
	return fmt.Sprintf("template error while templating string: %v. String: %s", e.Err, e.Template)
}

// Unwrap returns the reason.
func (e *TemplateError) Unwrap() error { return e.Err }

// IsUndefined reports whether the failure is an undefined variable or a missing
// attribute or item, rather than a syntax or type error.
func (e *TemplateError) IsUndefined() bool {
	return e.Err != nil && (strings.Contains(e.Err.Error(), errUndefinedMarker) ||
		strings.Contains(e.Err.Error(), "has no attribute"))
}

// IsTemplate reports whether s contains Jinja markup and so needs rendering.
func IsTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%") || strings.Contains(s, "{#")
}

// Check parses s and reports a syntax error or an unknown filter or test, without
// rendering. A string without Jinja markup is always valid.
func (t *Templar) Check(s string) error {
	if !IsTemplate(s) {
		return nil
	}
	p, err := t.parse(s)
	if err != nil {
		return err
	}
	for _, name := range p.filters {
		if !t.env.Filters.Exists(name) {
			return &TemplateError{Template: s, Err: fmt.Errorf("no filter named '%s'", name)}
		}
	}
	for _, name := range p.tests {
		if !t.env.Tests.Exists(name) {
			return &TemplateError{Template: s, Err: fmt.Errorf("no test named '%s'", name)}
		}
	}
	return nil
}

// CheckCondition checks a bare conditional (a `when:`, `changed_when:`, `failed_when:` or
// `until:` entry) as Check checks a template: cond is checked as Evaluate will wrap it.
func (t *Templar) CheckCondition(cond string) error {
	if strings.TrimSpace(cond) == "" {
		return nil
	}
	if IsTemplate(cond) {
		return t.Check(cond) // rendered first; what it renders to is only known at run time
	}
	err := t.Check("{% if " + cond + " %} True {% else %} False {% endif %}")
	var te *TemplateError
	if errors.As(err, &te) {
		te.Template = cond
	}
	return err
}

// Render renders s with vars, as Ansible's templar does: a string without Jinja markup is
// returned unchanged; `{{ name }}` naming a bool or number variable returns it as is;
// otherwise the output text is turned back into a list, dict or bool when it reads as a
// Python literal of one (so `{{ [1, 2] }}` is a list, `{{ 1 }}` is the string "1").
// Variables whose values are templates are rendered when used, as Ansible does.
func (t *Templar) Render(s string, vars map[string]any) (any, error) {
	return t.render(s, vars, 0)
}

// RenderText renders s to text, as the template module renders a file: no conversion
// back to Python values, trailing newlines kept.
func (t *Templar) RenderText(s string, vars map[string]any) (string, error) {
	return t.renderText(s, vars, 0)
}

// RenderValue renders every string inside v, recursively through lists and map values.
// Map keys are kept as they are, as Ansible's templar keeps them.
func (t *Templar) RenderValue(v any, vars map[string]any) (any, error) {
	return t.renderValue(v, vars, 0)
}

// Evaluate evaluates a bare conditional such as a `when:` entry, as Ansible does: nil and
// "" are true, a bool is itself; a string is rendered once (for inline `{{ }}`), then
// wrapped in `{% if ... %} True {% else %} False {% endif %}` and rendered again. A
// non-string value (or a first rendering that is not a string) counts by its truth.
func (t *Templar) Evaluate(cond any, vars map[string]any) (bool, error) {
	switch c := cond.(type) {
	case nil:
		return true, nil
	case bool:
		return c, nil
	case string:
		if c == "" {
			return true, nil
		}
		return t.evaluate(c, vars)
	default:
		return truthy(c), nil
	}
}

func (t *Templar) evaluate(cond string, vars map[string]any) (bool, error) {
	first, err := t.Render(cond, vars)
	if err != nil {
		return false, err
	}
	s, ok := first.(string)
	if !ok || s == "" {
		return truthy(first), nil
	}
	out, err := t.renderText("{% if "+s+" %} True {% else %} False {% endif %}", vars, 0)
	if err != nil {
		var te *TemplateError
		if asTemplateError(err, &te) {
			te.Template = cond
		}
		return false, err
	}
	switch strings.TrimSpace(out) {
	case "True":
		return true, nil
	case "False":
		return false, nil
	}
	return false, &TemplateError{Template: cond, Err: fmt.Errorf("unable to evaluate conditional: %s", cond)}
}

func (t *Templar) renderValue(v any, vars map[string]any, depth int) (any, error) {
	switch x := v.(type) {
	case string:
		return t.render(x, vars, depth)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := t.renderValue(e, vars, depth)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := t.renderValue(e, vars, depth)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	default:
		return v, nil
	}
}
