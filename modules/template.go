package modules

import (
	"context"
)

func templateSpec() Spec {
	args := fileCommonArgs()
	for k, a := range map[string]Arg{
		"src": {Type: Path, Required: true}, "dest": {Type: Path, Required: true},
		"backup": {Type: Bool}, "force": {Type: Bool}, "follow": {Type: Bool}, "validate": {Type: Str},
		"newline_sequence":   {Type: Str, Choices: []string{`\n`, `\r`, `\r\n`}},
		"block_start_string": {Type: Str}, "block_end_string": {Type: Str},
		"variable_start_string": {Type: Str}, "variable_end_string": {Type: Str},
		"comment_start_string": {Type: Str}, "comment_end_string": {Type: Str},
		"trim_blocks": {Type: Bool}, "lstrip_blocks": {Type: Bool}, "output_encoding": {Type: Str},
	} {
		args[k] = a
	}
	return Spec{Args: args, Validate: validateFileArgs}
}

// runTemplate renders a controller-side Jinja2 template with the task's variables and
// copies the result as copy does (checksum, atomic upload, mode, owner, backup, --diff).
func runTemplate(ctx context.Context, h Host, c Call) (Result, error) {
	for _, k := range []string{"block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
		"comment_start_string", "comment_end_string", "output_encoding"} {
		if _, ok := c.Args[k]; ok {
			return bad("template: %s is not supported by kpx", k)
		}
	}
	if c.Render == nil {
		return bad("template: no template engine in this context")
	}
	src := str(c.Args["src"])
	local, err := c.LocalPath("templates", src)
	if err != nil {
		return bad("%v", err)
	}
	text, err := c.Render(local)
	if err != nil {
		return bad("AnsibleError: %v", err)
	}
	switch str(c.Args["newline_sequence"]) {
	case `\r\n`:
		text = replaceNewlines(text, "\r\n")
	case `\r`:
		text = replaceNewlines(text, "\r")
	}
	data := []byte(text)
	job := jobOf(payload{data: data}, data, local)
	return copyOne(ctx, h, c, job, str(c.Args["dest"]), true)
}

func replaceNewlines(s, nl string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, nl...)
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}
