package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// vaultSecrets are the plaintexts of the values testdata/vault encrypts with ansible-vault:
// inline in the inventory and the playbook, whole in group_vars, a vars_files file and an
// included task file.
var vaultSecrets = []string{"INV-inline-SECRET-1", "GROUP-whole-SECRET-2", "VARSFILE-whole-SECRET-3", "PLAY-inline-SECRET-4", "EXTRA-whole-SECRET-5"}

// vaultArgs are the password sources for testdata/vault: a password file (vault id
// default) and a password script (vault id prod); and its vaulted extra vars file.
func vaultArgs(t *testing.T) (dir string, args []string) {
	dir, _ = filepath.Abs("testdata/vault")
	return dir, []string{"--vault-password-file", filepath.Join(dir, "password"),
		"--vault-id", "prod@" + filepath.Join(dir, "prod-password.sh"), "-e", "@" + filepath.Join(dir, "extra.yml")}
}

// TestVaultSecretsNeverShown runs a playbook that uses vaulted values in a debug message, a
// command's arguments, a registered result, a failure and an included file, at -vvvv
// against the OpenSSH fleet, with plain and JSON output, and looks for the secrets in
// stdout, stderr and the journal.
func TestVaultSecretsNeverShown(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	dir, vargs := vaultArgs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, ui := range []string{"plain", "json"} {
		t.Run(ui, func(t *testing.T) {
			state := t.TempDir()
			args := append([]string{"run", "-vvvv", "--ui", ui, "--state-dir", state, "-i", f.Inventory,
				"-i", filepath.Join(dir, "inventory"), filepath.Join(dir, "site.yml")}, vargs...)
			var out, errOut bytes.Buffer
			if code := run(ctx, args, &out, &errOut); code != ExitOK {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
			}
			outputs := map[string]string{"stdout": out.String(), "stderr": errOut.String()}
			journals, _ := filepath.Glob(filepath.Join(state, "runs", "*"))
			if len(journals) == 0 {
				t.Fatal("no journal written")
			}
			for _, j := range journals {
				b, err := os.ReadFile(j)
				if err != nil {
					t.Fatal(err)
				}
				outputs["journal "+filepath.Base(j)] = string(b)
			}
			for name, text := range outputs {
				for _, s := range vaultSecrets {
					if strings.Contains(text, s) {
						t.Errorf("%s shows the vaulted value %q:\n%s", name, s, text)
					}
				}
			}
			// The values were decrypted and used: each use shows as the mask.
			if n := strings.Count(out.String(), "********"); n < 7 {
				t.Errorf("stdout shows the mask %d times, want the 7 uses or more:\n%s", n, out.String())
			}
			// The journal keeps no masked value of -e for kpx resume to take as real.
			if !strings.Contains(outputs["journal "+filepath.Base(journals[0])], `"extra_secret":"\u003credacted\u003e"`) {
				t.Errorf("the journal's extra vars do not redact extra_secret:\n%s", outputs["journal "+filepath.Base(journals[0])])
			}
		})
	}
}

// TestVaultRunMatchesAnsible checks that ansible-playbook, given the same passwords,
// decrypts the same fixtures and ends with the same recap.
func TestVaultRunMatchesAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible; skipped with -short")
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	dir, vargs := vaultArgs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"-i", f.Inventory, "-i", filepath.Join(dir, "inventory"), filepath.Join(dir, "site.yml")}, vargs...)
	want, wantCode := testfleet.RunAnsible(ctx, t, f.Dir, ansible, args...)
	var out, errOut bytes.Buffer
	code := run(ctx, append([]string{"run"}, args...), &out, &errOut)
	recap := regexp.MustCompile(`(?m)^\S+\s+: ok=.*$`)
	if g, w := recap.FindAllString(out.String(), -1), recap.FindAllString(string(want), -1); strings.Join(g, "\n") != strings.Join(w, "\n") || code != wantCode {
		t.Errorf("recap (exit %d):\n%s\nansible-playbook (exit %d):\n%s\nkpx stderr: %s", code, strings.Join(g, "\n"), wantCode, strings.Join(w, "\n"), errOut.String())
	}
}

func TestVaultErrors(t *testing.T) {
	dir, vargs := vaultArgs(t)
	inv := filepath.Join(t.TempDir(), "inv")
	os.WriteFile(inv, []byte("h1 ansible_host=127.0.0.1 ansible_port=9\n"), 0o644)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("not-the-password\n"), 0o600)
	site := filepath.Join(dir, "site.yml")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no password", []string{"-i", inv, site},
			site + ":9:18: vault: encrypted with Ansible Vault, and no vault password was given: use --vault-password-file FILE, --ask-vault-pass or --vault-id LABEL@SOURCE"},
		{"wrong password", []string{"-i", inv, "--vault-password-file", wrong, site},
			site + `:9:18: vault: decryption failed (encrypted with vault id "prod"): HMAC-SHA256 of the ciphertext does not match with the password of vault id "default": the password is wrong, or the ciphertext was altered`},
		{"wrong password, inventory", []string{"-i", filepath.Join(dir, "inventory"), site, "--vault-id", vargs[3]},
			filepath.Join(dir, "inventory", "hosts.yml") + `:3:17: vault: decryption failed: HMAC-SHA256 of the ciphertext does not match with the password of vault id "prod"`},
		{"syntax check", []string{"--syntax-check", site, "--vault-password-file", wrong},
			site + `:9:18: vault: decryption failed`},
		{"missing password file", []string{"-i", inv, "--vault-password-file", wrong + "-nope", site},
			"kpx: vault password file: stat " + wrong + "-nope: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"run", "--state-dir", t.TempDir()}, tt.args...), &out, &errOut)
			if code != ExitError || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit code %d, stderr:\n%s\nwant exit 1 and %q", code, errOut.String(), tt.want)
			}
		})
	}
}

// TestVaultInventoryMatchesAnsible: kpx inventory prints what ansible-inventory prints for
// a vaulted inventory: files encrypted whole decrypted, inline values left encrypted.
func TestVaultInventoryMatchesAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible; skipped with -short")
	}
	tool := testfleet.RequireTool(t, "ansible-inventory")
	dir, _ := filepath.Abs("../../inventory/testdata/vault")
	args := []string{"-i", filepath.Join(dir, "yaml", "hosts.yml"), "-i", filepath.Join(dir, "ini", "hosts"),
		"--vault-password-file", filepath.Join(dir, "password.txt"), "--vault-id", "prod@" + filepath.Join(dir, "password-prod.txt")}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, mode := range [][]string{{"--list"}, {"--host", "web1"}, {"--host", "db1"}} {
		want, wantCode := testfleet.RunAnsible(ctx, t, dir, tool, append(args, mode...)...)
		var out, errOut bytes.Buffer
		code := run(ctx, append(append([]string{"inventory"}, args...), mode...), &out, &errOut)
		if out.String() != string(want) || code != wantCode {
			t.Errorf("%v: kpx (exit %d):\n%s%s\nansible-inventory (exit %d):\n%s", mode, code, out.String(), errOut.String(), wantCode, want)
		}
	}
}

// TestVaultCommand: kpx vault encrypt, view, decrypt and encrypt_string round-trip, and
// ansible-vault reads what kpx vault writes.
func TestVaultCommand(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("cmd-test-pw\n"), 0o600)
	file := filepath.Join(dir, "vars.yml")
	const plain = "token: cmd-test-value\n"
	os.WriteFile(file, []byte(plain), 0o640)
	kpx := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), append([]string{"vault"}, args...), &out, &errOut); code != ExitOK {
			t.Fatalf("kpx vault %v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	kpx("encrypt", "--vault-id", "ops@"+pw, file)
	text, _ := os.ReadFile(file)
	if st, _ := os.Stat(file); !strings.HasPrefix(string(text), "$ANSIBLE_VAULT;1.2;AES256;ops\n") || st.Mode().Perm() != 0o640 {
		t.Fatalf("encrypt wrote %q, mode %v", text, st.Mode())
	}
	if ansible, err := exec.LookPath("ansible-vault"); err == nil && !testing.Short() {
		cmd := exec.Command(ansible, "view", "--vault-id", "ops@"+pw, file)
		cmd.Env = testfleet.AnsibleEnv(t.TempDir())
		if got, err := cmd.Output(); err != nil || strings.TrimSuffix(string(got), "\n") != strings.TrimSuffix(plain, "\n") {
			t.Errorf("ansible-vault view: %q, %v", got, err)
		}
	}
	if got := kpx("view", "--vault-password-file", pw, file); got != plain {
		t.Errorf("view: %q", got)
	}
	kpx("decrypt", "--vault-password-file", pw, file)
	if got, _ := os.ReadFile(file); string(got) != plain {
		t.Errorf("decrypt: %q", got)
	}
	out := kpx("encrypt_string", "--vault-password-file", pw, "--name", "token", "cmd-test-value")
	os.WriteFile(filepath.Join(dir, "inline.yml"), []byte(out), 0o600)
	if !strings.HasPrefix(out, "token: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n") {
		t.Errorf("encrypt_string: %q", out)
	}
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"vault", "view", file, "--vault-password-file", pw}, io.Discard, &errOut); code != ExitError ||
		!strings.Contains(errOut.String(), "input is not vault encrypted data") {
		t.Errorf("view of a plain file: exit %d, %s", code, errOut.String())
	}
}
