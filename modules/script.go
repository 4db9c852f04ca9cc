package modules

import (
	"context"
	"path/filepath"

	"github.com/kpxdev/kpx/transport"
)

func scriptSpec() Spec {
	return Spec{Args: map[string]Arg{
		"cmd": {Type: Str}, "creates": {Type: Path}, "removes": {Type: Path}, "chdir": {Type: Path},
		"executable": {Type: Str}, "decrypt": {Type: Bool},
	}, FreeForm: true, RequiredOneOf: [][]string{{rawParams, "cmd"}}, MutuallyExclusive: [][]string{{rawParams, "cmd"}}}
}

// runScript uploads a controller script to a private temporary directory on the host,
// runs it there with its arguments (through executable when given), and removes it.
func runScript(ctx context.Context, h Host, c Call) (Result, error) {
	text := str(c.Args[rawParams])
	if text == "" {
		text = str(c.Args["cmd"])
	}
	words, err := transport.SplitShellWords(text)
	if err != nil || len(words) == 0 {
		return bad("script: cannot read the command line %q", text)
	}
	local, err := c.LocalPath("files", words[0])
	if err != nil {
		return bad("%v", err)
	}
	r := Result{"changed": true, "rc": nil, "stdout": "", "stderr": ""}
	if done, err := creationGuard(ctx, h, c, r); done || err != nil {
		// Ansible's script action skips the task, rather than report ok.
		return Result{"changed": false, "skipped": true, "msg": str(r["stdout"])}, err
	}
	if c.Check {
		if c.Args["creates"] == nil && c.Args["removes"] == nil {
			return Result{"changed": false, "skipped": true, "msg": "Check mode is not supported for this task."}, nil
		}
		return r, nil
	}
	tmp, err := newRemoteTmp(ctx, h, c)
	if err != nil {
		return failure(r, err)
	}
	defer tmp.remove()
	remote, err := tmp.put(ctx, filepath.Base(local), payload{local: local}, 0o700)
	if err != nil {
		return failure(r, err)
	}
	argv := append([]string{remote}, words[1:]...)
	if exe := str(c.Args["executable"]); exe != "" {
		exeWords, _ := transport.SplitShellWords(exe)
		argv = append(exeWords, argv...)
	}
	cmd := transport.Cmd{Argv: argv}
	if dir := str(c.Args["chdir"]); dir != "" {
		cmd = inDir(cmd, dir)
	}
	res, err := run(ctx, h, c, cmd)
	if err != nil {
		return failure(r, err)
	}
	setOutput(r, res, false)
	if res.ExitStatus != 0 {
		r["failed"], r["msg"] = true, "non-zero return code"
	}
	return withLines(r, nil)
}
