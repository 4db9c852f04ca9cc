package playbooks

import (
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Keywords are those plays, blocks and tasks share. An unset keyword inherits from the
// enclosing block or play, as in Ansible.
type Keywords struct {
	Name              string
	Tags              []string
	Vars              map[string]any
	Environment       any // a mapping, a list of mappings, or a template
	Become            Flag
	BecomeUser        string
	BecomeMethod      string
	BecomeFlags       string
	BecomeExe         string
	IgnoreErrors      Flag
	IgnoreUnreachable Flag
	NoLog             Flag
	RunOnce           Flag
	CheckMode         Flag
	Diff              Flag
	AnyErrorsFatal    Flag
	RemoteUser        string
	Connection        string
	Port              Int
	Throttle          Int
	Timeout           Int
	Collections       []string

	// KeyPos holds where each keyword was written, for errors found later (a template that
	// fails at run time, say).
	KeyPos map[string]Pos
}

// Keyword sets, as Ansible 2.14 defines them for each kind of node.
var (
	baseKeywords = words("name connection port remote_user vars environment no_log run_once ignore_errors " +
		"ignore_unreachable check_mode diff any_errors_fatal throttle timeout debugger become become_method " +
		"become_user become_flags become_exe collections tags module_defaults")
	playKeywords = union(baseKeywords, words("hosts gather_facts gather_subset gather_timeout fact_path vars_files "+
		"vars_prompt roles handlers pre_tasks post_tasks tasks force_handlers max_fail_percentage serial strategy order "+
		"health rollback"))
	blockKeywords = union(baseKeywords, words("when notify delegate_to delegate_facts block rescue always"))
	taskKeywords  = union(baseKeywords, words("when notify delegate_to delegate_facts args action async changed_when "+
		"delay failed_when loop loop_control poll register retries until local_action"))
	handlerKeywords = union(taskKeywords, words("listen"))

	// Keywords kpx reads but cannot honour; a playbook using them is refused rather than run
	// with a different meaning.
	unsupportedKeywords = map[string]string{
		"vars_prompt":     "kpx runs unattended; pass the values with -e",
		"async":           "asynchronous tasks are not supported",
		"poll":            "asynchronous tasks are not supported",
		"module_defaults": "module_defaults are not supported; write the arguments in each task",
	}
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func union(sets ...map[string]bool) map[string]bool {
	m := map[string]bool{}
	for _, s := range sets {
		for k := range s {
			m[k] = true
		}
	}
	return m
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var identifierRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keywords reads the shared keywords from f.
func (l *loader) keywords(f *fields, what string) (Keywords, error) {
	var k Keywords
	var err error
	for _, key := range f.keys {
		if why, ok := unsupportedKeywords[key]; ok {
			return k, l.errAt(f.key[key], "%s: %s", key, why)
		}
	}
	k.KeyPos = make(map[string]Pos, len(f.keys))
	for _, key := range f.keys {
		k.KeyPos[key] = f.pos(key)
	}
	strs := map[string]*string{"name": &k.Name, "become_user": &k.BecomeUser, "become_method": &k.BecomeMethod,
		"become_flags": &k.BecomeFlags, "become_exe": &k.BecomeExe, "remote_user": &k.RemoteUser, "connection": &k.Connection}
	for key, dst := range strs {
		if *dst, err = l.str(f, key); err != nil {
			return k, err
		}
	}
	flags := map[string]*Flag{"become": &k.Become, "ignore_errors": &k.IgnoreErrors, "ignore_unreachable": &k.IgnoreUnreachable,
		"no_log": &k.NoLog, "run_once": &k.RunOnce, "check_mode": &k.CheckMode, "diff": &k.Diff, "any_errors_fatal": &k.AnyErrorsFatal}
	for key, dst := range flags {
		if *dst, err = l.flag(f, key); err != nil {
			return k, err
		}
	}
	ints := map[string]*Int{"port": &k.Port, "throttle": &k.Throttle, "timeout": &k.Timeout}
	for key, dst := range ints {
		if *dst, err = l.integer(f, key); err != nil {
			return k, err
		}
	}
	if k.BecomeMethod != "" && k.BecomeMethod != "sudo" && k.BecomeMethod != "su" && !isTemplate(k.BecomeMethod) {
		return k, l.errAt(f.value["become_method"], "become_method %q is not supported; kpx knows sudo and su", k.BecomeMethod)
	}
	if k.Tags, err = l.strList(f, "tags", true); err != nil {
		return k, err
	}
	if k.Collections, err = l.strList(f, "collections", false); err != nil {
		return k, err
	}
	if k.Environment, err = l.value(f, "environment"); err != nil {
		return k, err
	}
	if k.Vars, err = l.vars(f, what); err != nil {
		return k, err
	}
	return k, nil
}

// vars reads a `vars:` mapping (or Ansible's legacy list of mappings) and checks that every
// name is a valid variable name.
func (l *loader) vars(f *fields, what string) (map[string]any, error) {
	n, ok := f.value["vars"]
	if !ok {
		return nil, nil
	}
	n = deref(n)
	maps := []*yaml.Node{n}
	switch n.Kind {
	case yaml.SequenceNode:
		maps = n.Content
	case yaml.ScalarNode:
		if n.Value == "" || n.Tag == "!!null" {
			return nil, nil
		}
	}
	out := map[string]any{}
	for _, m := range maps {
		mf, err := l.mapping(m, "vars of a "+what)
		if err != nil {
			return nil, err
		}
		for _, name := range mf.keys {
			if !identifierRE.MatchString(name) {
				return nil, l.errAt(mf.key[name], "invalid variable name in vars: %q is not a valid variable name", name)
			}
			if out[name], err = l.value(mf, name); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// checkKeys refuses keys not in allowed, naming the first offender.
func (l *loader) checkKeys(f *fields, allowed map[string]bool, what string) error {
	for _, k := range f.keys {
		if !allowed[k] {
			return l.errAt(f.key[k], "%q is not a valid attribute for a %s", k, what)
		}
	}
	return nil
}
