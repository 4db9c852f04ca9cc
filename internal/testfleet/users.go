package testfleet

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Sudo rules for a test user.
const (
	SudoNone     = ""         // no sudo rights
	SudoNoPasswd = "nopasswd" // sudo without a password
	SudoPassword = "password" // sudo asking for the user's own password
)

// UserOptions describe an OS account created for one test.
type UserOptions struct {
	Sudo     string // SudoNone, SudoNoPasswd or SudoPassword
	Password string // the account's password; required for SudoPassword
}

// User is an OS account created by AddUser; it logs in with the fleet's client key.
type User struct {
	Name     string
	Password string
	Home     string
}

// AddUser creates an unprivileged OS user that can log in to every host of the fleet with
// the fleet's client key, optionally with sudo rights, and removes it (and its sudoers
// drop-in) in t.Cleanup. Creating users needs root: the test is skipped otherwise, or
// fails under CI=true. It makes the fleet directory world-readable, because sshd reads
// the authorized keys file as the logging-in user.
func (f *Fleet) AddUser(t testing.TB, opts UserOptions) *User {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, errors.New("creating OS users needs root"))
	}
	if opts.Sudo == SudoPassword && opts.Password == "" {
		t.Fatal("testfleet: SudoPassword needs a Password")
	}
	for _, tool := range []string{"useradd", "userdel", "usermod", "chpasswd"} {
		RequireTool(t, tool)
	}
	if err := openDirChain(f.Dir); err != nil {
		t.Fatalf("testfleet: %v", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	u := &User{Name: "kpxt" + hex.EncodeToString(b), Password: opts.Password}
	u.Home = filepath.Join("/home", u.Name)
	if out, err := exec.Command("useradd", "-m", "-d", u.Home, "-s", "/bin/sh", u.Name).CombinedOutput(); err != nil {
		t.Fatalf("testfleet: useradd %s: %v\n%s", u.Name, err, out)
	}
	t.Cleanup(func() { removeUser(t, u.Name) })
	if err := setPassword(u.Name, opts.Password); err != nil {
		t.Fatalf("testfleet: %v", err)
	}
	if opts.Sudo != SudoNone {
		if err := writeSudoers(u.Name, opts.Sudo); err != nil {
			t.Fatalf("testfleet: %v", err)
		}
	}
	return u
}

// setPassword sets the account's password through chpasswd's stdin (never argv), or
// unlocks it without one: sshd without PAM refuses locked accounts even for keys.
func setPassword(name, password string) error {
	if password == "" {
		if out, err := exec.Command("usermod", "-p", "*", name).CombinedOutput(); err != nil {
			return fmt.Errorf("usermod %s: %v: %s", name, err, out)
		}
		return nil
	}
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(name + ":" + password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chpasswd %s: %v: %s", name, err, out)
	}
	return nil
}

func sudoersFile(name string) string { return filepath.Join("/etc/sudoers.d", "kpx-test-"+name) }

func writeSudoers(name, mode string) error {
	rule := name + " ALL=(ALL:ALL) ALL"
	if mode == SudoNoPasswd {
		rule = name + " ALL=(ALL:ALL) NOPASSWD: ALL"
	}
	content := fmt.Sprintf("Defaults:%s !lecture\n%s\n", name, rule)
	tmp := sudoersFile(name) + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o440); err != nil {
		return err
	}
	if visudo, err := exec.LookPath("visudo"); err == nil {
		if out, err := exec.Command(visudo, "-c", "-f", tmp).CombinedOutput(); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("visudo rejects the drop-in: %v: %s", err, out)
		}
	}
	return os.Rename(tmp, sudoersFile(name))
}

func removeUser(t testing.TB, name string) {
	_ = os.Remove(sudoersFile(name))
	_ = exec.Command("pkill", "-KILL", "-u", name).Run()
	if out, err := exec.Command("userdel", "-r", "-f", name).CombinedOutput(); err != nil {
		t.Errorf("testfleet: userdel %s: %v\n%s", name, err, out)
	}
}

// openDirChain makes dir and its parents up to the temporary directory traversable and
// readable by every user (t.TempDir creates them 0700).
func openDirChain(dir string) error {
	root := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); strings.HasPrefix(d, root+string(filepath.Separator)); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}
