package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Prompter asks the operator for the password of a vault id, without echoing it.
type Prompter func(label string) ([]byte, error)

// Sources are where a run's vault passwords come from, named as ansible-playbook's flags.
type Sources struct {
	IDs           []string // --vault-id LABEL@SOURCE (or SOURCE), in order
	PasswordFiles []string // --vault-password-file FILE
	Ask           bool     // --ask-vault-pass
	// ConfigFile is vault_password_file from ansible.cfg (or ANSIBLE_VAULT_PASSWORD_FILE):
	// tried after the password files given on the command line, as Ansible does.
	ConfigFile string
}

// Empty reports whether no password source is set.
func (s Sources) Empty() bool {
	return len(s.IDs) == 0 && len(s.PasswordFiles) == 0 && !s.Ask && s.ConfigFile == ""
}

// Open reads every password source, in Ansible's order (vault ids, password files, the
// configured file, then the --ask-vault-pass prompt), and returns a Vault holding them;
// with no source it returns nil, a Vault that cannot decrypt. prompt is used for the
// `prompt` source and --ask-vault-pass.
func (s Sources) Open(ctx context.Context, prompt Prompter) (*Vault, error) {
	if s.Empty() {
		return nil, nil
	}
	specs := append([]string(nil), s.IDs...)
	for _, f := range s.PasswordFiles {
		specs = append(specs, DefaultLabel+"@"+f)
	}
	if s.ConfigFile != "" {
		specs = append(specs, DefaultLabel+"@"+s.ConfigFile)
	}
	if s.Ask {
		specs = append(specs, DefaultLabel+"@prompt")
	}
	var pws []Password
	for _, spec := range specs {
		label, source := ParseID(spec)
		p, err := Load(ctx, label, source, prompt)
		if err != nil {
			return nil, err
		}
		pws = append(pws, p)
	}
	return New(pws...), nil
}

// ParseID splits a --vault-id value: "label@source", or a bare source whose label is
// "default".
func ParseID(spec string) (label, source string) {
	label, source, ok := strings.Cut(spec, "@")
	if !ok {
		return DefaultLabel, spec
	}
	if label == "" {
		label = DefaultLabel
	}
	return label, source
}

// clientScript matches the names of vault password client scripts, which Ansible runs with
// `--vault-id LABEL` so one script can serve many vault ids.
var clientScript = regexp.MustCompile(`-client(\.[^./]+)?$`)

// Load reads the password of vault id label from source: "prompt" asks with prompt; an
// executable file is run and its standard output, without the final line break, is the
// password; any other file is read and its surrounding white space removed.
func Load(ctx context.Context, label, source string, prompt Prompter) (Password, error) {
	p := Password{Label: label, Source: source}
	if source == "prompt" {
		if prompt == nil {
			return p, fmt.Errorf("vault id %q: cannot prompt for a vault password here", label)
		}
		pw, err := prompt(label)
		if err != nil {
			return p, fmt.Errorf("vault id %q: reading the password: %w", label, err)
		}
		if len(pw) == 0 {
			return p, fmt.Errorf("vault id %q: an empty vault password was given", label)
		}
		p.Secret = pw
		return p, nil
	}
	st, err := os.Stat(source)
	if err != nil {
		return p, fmt.Errorf("vault password file: %w", err)
	}
	if st.IsDir() {
		return p, fmt.Errorf("vault password file %s is a directory", source)
	}
	if st.Mode()&0o111 != 0 {
		p.Secret, err = runScript(ctx, label, source)
	} else {
		var data []byte
		data, err = os.ReadFile(source)
		p.Secret = bytes.TrimSpace(data)
	}
	if err != nil {
		return p, err
	}
	if len(p.Secret) == 0 {
		return p, fmt.Errorf("vault password file %s gave an empty password", source)
	}
	return p, nil
}

// runScript runs a vault password script; its standard output is the password.
func runScript(ctx context.Context, label, script string) ([]byte, error) {
	var args []string
	if clientScript.MatchString(filepath.Base(script)) {
		args = []string{"--vault-id", label}
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, abs, args...)
	cmd.Stdin = os.Stdin // a script may ask the operator itself
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("vault password script %s exited with status %d: %s", script, ee.ExitCode(), msg)
		}
		return nil, fmt.Errorf("vault password script %s: %w", script, err)
	}
	return bytes.TrimRight(stdout.Bytes(), "\r\n"), nil
}
