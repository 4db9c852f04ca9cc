package modules

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kpxdev/kpx/transport"
)

// Command is the command module: a program run with its arguments, no shell.
var Command Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	return withLines(runCommand(ctx, h, c, false))
})

// Shell is the shell module: a script run by /bin/sh (or `executable`).
var Shell Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	return withLines(runCommand(ctx, h, c, true))
})

// Raw is the raw module: text handed to the remote shell as it is, for hosts where even the
// command module's few conventions (creates, chdir) do not apply.
var Raw Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	return withLines(runRaw(ctx, h, c))
})

func runRaw(ctx context.Context, h Host, c Call) (Result, error) {
	text := str(c.Args[rawParams])
	r := Result{"changed": true}
	if c.Check {
		return Result{"changed": false, "skipped": true, "msg": "raw does not support check mode"}, nil
	}
	cmd := transport.Cmd{Shell: text}
	if exe := str(c.Args["executable"]); exe != "" {
		cmd = transport.Cmd{Argv: []string{exe, "-c", text}}
	}
	res, err := run(ctx, h, c, cmd)
	if err != nil {
		return nil, err
	}
	setOutput(r, res, false)
	if res.ExitStatus != 0 {
		r["failed"], r["msg"] = true, "non-zero return code"
	}
	return r, nil
}

// runCommand is the command and shell modules, which differ only in how the command is
// started.
func runCommand(ctx context.Context, h Host, c Call, shell bool) (Result, error) {
	text := str(c.Args[rawParams])
	if text == "" {
		text = str(c.Args["cmd"])
	}
	argv := strList(c.Args["argv"])
	r := Result{"changed": false, "stdout": "", "stderr": "", "rc": nil, "cmd": nil, "start": nil, "end": nil, "delta": nil, "msg": ""}
	fail := func(msg string) (Result, error) {
		r["failed"], r["msg"] = true, msg
		return r, nil
	}
	if strings.TrimSpace(text) == "" && len(argv) == 0 {
		r["rc"] = 256
		return fail("no command given")
	}
	if text != "" && len(argv) > 0 {
		r["rc"] = 256
		return fail("only command or argv can be given, not both")
	}
	cmd, err := commandOf(text, argv, shell, str(c.Args["executable"]))
	if err != nil {
		r["rc"] = 256
		return fail(err.Error())
	}
	if shell {
		r["cmd"] = text
	} else {
		r["cmd"] = toAny(cmd.Argv)
	}
	if done, err := creationGuard(ctx, h, c, r); done || err != nil {
		return r, err
	}
	r["changed"] = true
	if c.Check {
		r["rc"], r["msg"] = 0, "Command would have run if not in check mode"
		if c.Args["creates"] == nil && c.Args["removes"] == nil {
			r["skipped"], r["changed"] = true, false
		}
		return r, nil
	}
	if dir := str(c.Args["chdir"]); dir != "" {
		cmd = inDir(cmd, dir)
	}
	if in, ok := c.Args["stdin"]; ok && in != nil {
		data := str(in)
		if b, ok := AnsibleBool(c.Args["stdin_add_newline"]); !ok || b {
			data += "\n"
		}
		cmd.Stdin = strings.NewReader(data)
	}
	start := time.Now()
	res, err := run(ctx, h, c, cmd)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	r["start"], r["end"], r["delta"] = pyTime(start), pyTime(end), pyDelta(end.Sub(start))
	strip := true
	if b, ok := AnsibleBool(c.Args["strip_empty_ends"]); ok {
		strip = b
	}
	setOutput(r, res, strip)
	if res.ExitStatus != 0 {
		r["failed"], r["msg"] = true, "non-zero return code"
	}
	return r, nil
}

// commandOf builds the transport command: argv as given, text split like a shell (no
// expansion) for command, or a script for shell.
func commandOf(text string, argv []string, shell bool, executable string) (transport.Cmd, error) {
	switch {
	case shell && executable != "":
		return transport.Cmd{Argv: []string{executable, "-c", text}}, nil
	case shell:
		return transport.Cmd{Shell: text}, nil
	case len(argv) > 0:
		return transport.Cmd{Argv: argv}, nil
	}
	words, err := transport.SplitShellWords(text)
	if err != nil {
		return transport.Cmd{}, fmt.Errorf("cannot split the command line: %v", err)
	}
	if len(words) == 0 {
		return transport.Cmd{}, fmt.Errorf("no command given")
	}
	return transport.Cmd{Argv: words}, nil
}

// inDir makes cmd run in dir, failing as Ansible does when dir cannot be entered.
func inDir(cmd transport.Cmd, dir string) transport.Cmd {
	body := cmd.Shell
	if len(cmd.Argv) > 0 {
		body = "exec " + transport.QuoteArgv(cmd.Argv)
	}
	script := "cd " + transport.Quote(dir) + " || { echo 'Unable to change directory before execution' >&2; exit 1; }\n" + body
	return transport.Cmd{Shell: script, Env: cmd.Env, Stdin: cmd.Stdin}
}

// creationGuard applies creates/removes: when the glob says the command need not run, it
// fills r and reports done.
func creationGuard(ctx context.Context, h Host, c Call, r Result) (bool, error) {
	verb := "Did"
	if c.Check {
		verb = "Would"
	}
	if creates := str(c.Args["creates"]); creates != "" {
		exists, err := globExists(ctx, h, c, creates)
		if err != nil || exists {
			r["msg"] = fmt.Sprintf("%s not run command since '%s' exists", verb, creates)
			r["stdout"], r["rc"] = "skipped, since "+creates+" exists", 0
			return true, err
		}
	}
	if removes := str(c.Args["removes"]); removes != "" {
		exists, err := globExists(ctx, h, c, removes)
		if err != nil || !exists {
			r["msg"] = fmt.Sprintf("%s not run command since '%s' does not exist", verb, removes)
			r["stdout"], r["rc"] = "skipped, since "+removes+" does not exist", 0
			return true, err
		}
	}
	return false, nil
}

// globExists reports whether pattern matches an existing path on the host, using the
// remote shell's globbing (as Python's glob.glob does on the target).
func globExists(ctx context.Context, h Host, c Call, pattern string) (bool, error) {
	script := "for f in " + globWord(pattern) + "; do if [ -e \"$f\" ] || [ -L \"$f\" ]; then exit 0; fi; done; exit 1"
	res, err := run(ctx, h, c, transport.Cmd{Shell: script})
	if err != nil {
		return false, err
	}
	return res.ExitStatus == 0, nil
}

// globWord quotes pattern for the shell but leaves its glob characters active.
func globWord(pattern string) string {
	var b strings.Builder
	for _, r := range pattern {
		if r == '*' || r == '?' || r == '[' || r == ']' {
			b.WriteRune(r)
			continue
		}
		b.WriteString(transport.Quote(string(r)))
	}
	return b.String()
}

// setOutput fills stdout, stderr, their _lines and rc from a finished command.
func setOutput(r Result, res transport.Result, strip bool) {
	out, errOut := string(res.Stdout), string(res.Stderr)
	if strip {
		out, errOut = strings.TrimRight(out, "\r\n"), strings.TrimRight(errOut, "\r\n")
	}
	r["stdout"], r["stderr"] = out, errOut
	r["rc"] = res.ExitStatus
	if res.Signal != "" {
		r["rc"] = -signalNumber(res.Signal)
	}
}

// withLines adds stdout_lines and stderr_lines to a result that has stdout or stderr, as
// Ansible's controller does for every module.
func withLines(r Result, err error) (Result, error) {
	for _, k := range []string{"stdout", "stderr"} {
		if s, ok := r[k].(string); ok {
			if _, set := r[k+"_lines"]; !set {
				r[k+"_lines"] = splitLines(s)
			}
		}
	}
	return r, err
}

func signalNumber(name string) int {
	nums := map[string]int{"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "ABRT": 6, "KILL": 9, "SEGV": 11, "PIPE": 13, "ALRM": 14, "TERM": 15}
	if n, ok := nums[name]; ok {
		return n
	}
	return 1
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func strList(v any) []string {
	switch v := v.(type) {
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = str(x)
		}
		return out
	case []string:
		return v
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
