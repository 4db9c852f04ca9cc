package playbooks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// globals are the template globals kpx adds: lookup, query/q, range, omit.
func (t *Templar) globals() map[string]any {
	return map[string]any{
		"lookup": func(e *exec.Evaluator, p *exec.VarArgs) (any, error) { return t.lookup(p, false) },
		"query":  func(e *exec.Evaluator, p *exec.VarArgs) (any, error) { return t.lookup(p, true) },
		"q":      func(e *exec.Evaluator, p *exec.VarArgs) (any, error) { return t.lookup(p, true) },
		"range":  globalRange,
		"omit":   Omit,
		kwMarker: globalKw,
	}
}

// lookup runs lookup(name, *terms) or query(...): a list of values, which lookup joins
// with commas unless wantlist=True.
func (t *Templar) lookup(p *exec.VarArgs, wantList bool) (any, error) {
	if len(p.Args) == 0 {
		return nil, errors.New("lookup requires a plugin name")
	}
	for _, a := range p.Args {
		if a.IsError() {
			return nil, errors.New(a.Error())
		}
	}
	name := pyvalue.Str(plain(p.Args[0]))
	var terms []string
	for _, a := range p.Args[1:] {
		switch v := plain(a).(type) {
		case []any:
			for _, e := range v {
				terms = append(terms, pyvalue.Str(e))
			}
		default:
			terms = append(terms, pyvalue.Str(v))
		}
	}
	kw := map[string]any{}
	for k, v := range p.KwArgs {
		kw[k] = plain(v)
	}
	values, err := t.runLookup(name, terms, kw)
	if err != nil {
		return nil, err
	}
	if wantList || truthy(kw["wantlist"]) {
		return values, nil
	}
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = pyvalue.Str(v)
	}
	return strings.Join(parts, ","), nil
}

func (t *Templar) runLookup(name string, terms []string, kw map[string]any) ([]any, error) {
	switch strings.TrimPrefix(name, "ansible.builtin.") {
	case "env":
		out := make([]any, len(terms))
		for i, term := range terms {
			v := t.getenv(term)
			if v == "" {
				if d, ok := kw["default"]; ok {
					out[i] = d
					continue
				}
			}
			out[i] = v
		}
		return out, nil
	case "file":
		out := make([]any, len(terms))
		for i, term := range terms {
			s, err := t.readLookupFile(term, kw)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("lookup plugin (%s) not found", name)
}

// readLookupFile reads a file for lookup('file'): absolute, or found in the search
// directories or their files/ subdirectories; trailing whitespace stripped (rstrip=True).
func (t *Templar) readLookupFile(term string, kw map[string]any) (string, error) {
	candidates := []string{term}
	if !filepath.IsAbs(term) {
		candidates = nil
		for _, d := range t.dirs {
			candidates = append(candidates, filepath.Join(d, "files", term), filepath.Join(d, term))
		}
	}
	for _, c := range candidates {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		s := string(b)
		if r, ok := kw["rstrip"]; !ok || truthy(r) {
			s = strings.TrimRight(s, " \t\n\r\v\f")
		}
		if truthy(kw["lstrip"]) {
			s = strings.TrimLeft(s, " \t\n\r\v\f")
		}
		return s, nil
	}
	return "", fmt.Errorf("could not locate file in lookup: %s", term)
}

// globalRange is Python's range(stop) / range(start, stop[, step]) as a list.
func globalRange(p *exec.VarArgs) (any, error) {
	var n []int
	for _, a := range p.Args {
		i, ok := plain(a).(int)
		if !ok {
			return nil, fmt.Errorf("range() integer argument expected, got %s", pyvalue.TypeName(plain(a)))
		}
		n = append(n, i)
	}
	start, stop, step := 0, 0, 1
	switch len(n) {
	case 1:
		stop = n[0]
	case 2:
		start, stop = n[0], n[1]
	case 3:
		start, stop, step = n[0], n[1], n[2]
	default:
		return nil, errors.New("range expected 1 to 3 arguments")
	}
	if step == 0 {
		return nil, errors.New("range() arg 3 must not be zero")
	}
	if (stop-start)/step > 100000 {
		return nil, errors.New("range too big, maximum size for range is 100000")
	}
	out := []any{}
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		out = append(out, i)
	}
	return out, nil
}

// Find resolves a controller-side file named by a task (copy's src, template's src, a
// live-patch .ko) as Ansible does: an absolute path as it is; otherwise the search
// directories' kind/ subdirectory ("files", "templates") first, then the directories
// themselves. The error names every place looked at.
func (t *Templar) Find(kind, name string) (string, error) {
	if filepath.IsAbs(name) {
		if _, err := os.Stat(name); err != nil {
			return "", fmt.Errorf("could not find or access '%s' on the controller", name)
		}
		return name, nil
	}
	var tried []string
	for _, d := range t.dirs {
		for _, c := range []string{filepath.Join(d, kind, name), filepath.Join(d, name)} {
			if _, err := os.Stat(c); err == nil {
				return c, nil
			}
			tried = append(tried, c)
		}
	}
	return "", fmt.Errorf("could not find or access '%s' on the controller (searched %s)", name, strings.Join(tried, ", "))
}
