package playbooks

// Selected reports whether the task runs under --tags only and --skip-tags skip, by
// Ansible's rules: "always" runs unless skipped by name, "never" runs only when asked for
// by one of its other tags, "tagged" and "untagged" select by whether a task has tags,
// and "all" (the default for only) selects everything but "never".
func (t *Task) Selected(only, skip []string) bool {
	tags := map[string]bool{}
	for _, tag := range t.Tags {
		tags[tag] = true
	}
	untagged := len(tags) == 0
	if untagged {
		tags["untagged"] = true
	}
	in := func(list []string) bool {
		for _, x := range list {
			if tags[x] {
				return true
			}
		}
		return false
	}
	has := func(list []string, x string) bool {
		for _, y := range list {
			if y == x {
				return true
			}
		}
		return false
	}
	if len(only) == 0 {
		only = []string{"all"}
	}
	run := tags["always"] ||
		(has(only, "all") && !tags["never"]) ||
		in(only) ||
		(has(only, "tagged") && !untagged && !tags["never"])
	if !run || len(skip) == 0 {
		return run
	}
	switch {
	case has(skip, "all"):
		return tags["always"] && !has(skip, "always")
	case in(skip):
		return false
	case has(skip, "tagged") && !untagged:
		return false
	}
	return true
}
