package vault

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseID(t *testing.T) {
	tests := []struct{ spec, label, source string }{
		{"prod@/etc/pw", "prod", "/etc/pw"},
		{"/etc/pw", DefaultLabel, "/etc/pw"},
		{"prompt", DefaultLabel, "prompt"},
		{"dev@prompt", "dev", "prompt"},
		{"@pw", DefaultLabel, "pw"},
		{"a@b@c", "a", "b@c"},
	}
	for _, tt := range tests {
		if l, s := ParseID(tt.spec); l != tt.label || s != tt.source {
			t.Errorf("ParseID(%q) = %q, %q; want %q, %q", tt.spec, l, s, tt.label, tt.source)
		}
	}
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := write("pw.txt", "  file-pw \n\n", 0o600)
	script := write("pw.sh", "#!/bin/sh\nprintf 'script-pw \\n'\n", 0o700)
	client := write("vault-client.sh", "#!/bin/sh\n[ \"$1\" = --vault-id ] && printf 'client-%s\\n' \"$2\"\n", 0o700)
	failing := write("fail.sh", "#!/bin/sh\necho 'no keyring' >&2\nexit 3\n", 0o700)
	empty := write("empty.txt", "\n", 0o600)
	prompt := func(label string) ([]byte, error) { return []byte("typed-" + label), nil }

	tests := []struct {
		name    string
		src     Sources
		want    []Password // label and secret
		wantErr string
	}{
		{"none", Sources{}, nil, ""},
		{"password file", Sources{PasswordFiles: []string{file}}, []Password{{Label: "default", Secret: []byte("file-pw")}}, ""},
		// a script's output keeps inner and trailing blanks; only the line break goes
		{"script", Sources{PasswordFiles: []string{script}}, []Password{{Label: "default", Secret: []byte("script-pw ")}}, ""},
		{"client script", Sources{IDs: []string{"prod@" + client}}, []Password{{Label: "prod", Secret: []byte("client-prod")}}, ""},
		{"order", Sources{IDs: []string{"dev@prompt", "ops@" + file}, PasswordFiles: []string{script}, ConfigFile: file, Ask: true},
			[]Password{{Label: "dev", Secret: []byte("typed-dev")}, {Label: "ops", Secret: []byte("file-pw")},
				{Label: "default", Secret: []byte("script-pw ")}, {Label: "default", Secret: []byte("file-pw")},
				{Label: "default", Secret: []byte("typed-default")}}, ""},
		{"missing file", Sources{PasswordFiles: []string{filepath.Join(dir, "nope")}}, nil, "vault password file: stat " + dir + "/nope: no such file"},
		{"failing script", Sources{PasswordFiles: []string{failing}}, nil, "vault password script " + failing + " exited with status 3: no keyring"},
		{"empty", Sources{PasswordFiles: []string{empty}}, nil, "vault password file " + empty + " gave an empty password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.src.Open(context.Background(), prompt)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Passwords() != len(tt.want) {
				t.Fatalf("%d passwords, want %d", v.Passwords(), len(tt.want))
			}
			for i, w := range tt.want {
				if g := v.passwords[i]; g.Label != w.Label || string(g.Secret) != string(w.Secret) {
					t.Errorf("password %d: %q=%q, want %q=%q", i, g.Label, g.Secret, w.Label, w.Secret)
				}
			}
		})
	}
}
