package vault

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestAnsibleVaultLive encrypts with the installed ansible-vault at test time, both
// formats, whole-file and inline, and decrypts with this package; then the other way:
// ansible-vault decrypts what Encrypt wrote.
func TestAnsibleVaultLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-vault; skipped with -short")
	}
	tool, err := exec.LookPath("ansible-vault")
	if err != nil {
		t.Skip("ansible-vault not installed (scripts/test-deps installs it)")
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("live-test-password\n"), 0o600)
	v := New(Password{Label: "live", Secret: []byte("live-test-password")})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	vault := func(args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(ctx, tool, args...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(dir, "none.cfg"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ansible-vault %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	const secret = "live secret: ‘quoted’ \"and\" 100%\nsecond line"
	tests := []struct {
		name, id, header string
	}{
		{"1.1", pwFile, "$ANSIBLE_VAULT;1.1;AES256"},
		{"1.2", "live@" + pwFile, "$ANSIBLE_VAULT;1.2;AES256;live"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/file", func(t *testing.T) {
			f := filepath.Join(dir, "f-"+tt.name)
			os.WriteFile(f, []byte(secret), 0o600)
			vault("encrypt", "--vault-id", tt.id, f)
			text, _ := os.ReadFile(f)
			if !strings.HasPrefix(string(text), tt.header+"\n") {
				t.Fatalf("header: %q", strings.SplitN(string(text), "\n", 2)[0])
			}
			plain, _, err := v.Decrypt(text)
			if err != nil || string(plain) != secret {
				t.Errorf("got %q, %v", plain, err)
			}
		})
		t.Run(tt.name+"/inline", func(t *testing.T) {
			out := vault("encrypt_string", "--vault-id", tt.id, "--name", "x", secret)
			var doc yaml.Node
			if err := yaml.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			if err := v.DecryptNodes("x.yml", &doc); err != nil {
				t.Fatal(err)
			}
			if got := doc.Content[0].Content[1].Value; got != secret {
				t.Errorf("got %q", got)
			}
		})
	}
	t.Run("ansible-vault reads ours", func(t *testing.T) {
		text, err := New(Password{Label: "live", Secret: []byte("live-test-password")}).Encrypt([]byte(secret), "")
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, "ours")
		os.WriteFile(f, text, 0o600)
		// view ends what it shows with a line break of its own
		if got := vault("view", "--vault-id", "live@"+pwFile, f); strings.TrimSuffix(string(got), "\n") != secret {
			t.Errorf("ansible-vault view: %q", got)
		}
	})
}
