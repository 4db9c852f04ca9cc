package vault

import (
	"errors"
	"fmt"
	"strings"
)

// Password is one vault id: a label and the password it stands for.
type Password struct {
	Label  string
	Secret []byte
	Source string // where it came from ("prompt", a file), for messages
}

// ErrNoPassword means encrypted content was found and no vault password was given.
var ErrNoPassword = errors.New("encrypted with Ansible Vault, and no vault password was given: " +
	"use --vault-password-file FILE, --ask-vault-pass or --vault-id LABEL@SOURCE (or vault_password_file in ansible.cfg)")

// Error is a vault text that could not be decrypted, placed at the file (and, for an
// inline !vault value, the line and column of the value) it was found in. Its exit code is
// 1, as ansible-playbook exits on vault errors.
type Error struct {
	File string
	Line int // 0 for a file encrypted whole
	Col  int
	Err  error
}

func (e *Error) Error() string {
	pos := e.File
	if e.Line > 0 {
		pos = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	}
	return pos + ": vault: " + e.Err.Error()
}

// Unwrap returns the cause: ErrNoPassword, an *EnvelopeError, a *DecryptError.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is 1, as ansible-playbook's for "Decryption failed".
func (e *Error) ExitCode() int { return 1 }

// DecryptError says that none of the passwords given could decrypt a vault text: the
// HMAC of the ciphertext matched none of them.
type DecryptError struct {
	Label string   // the vault id in the envelope (1.2), or ""
	Tried []string // the vault ids tried, in order
}

func (e *DecryptError) Error() string {
	var b strings.Builder
	b.WriteString("decryption failed")
	if e.Label != "" {
		fmt.Fprintf(&b, " (encrypted with vault id %q)", e.Label)
	}
	fmt.Fprintf(&b, ": %v with the password of vault id %s: the password is wrong, or the ciphertext was altered",
		ErrHMAC, quoteList(e.Tried))
	return b.String()
}

// Unwrap makes errors.Is(err, ErrHMAC) hold.
func (e *DecryptError) Unwrap() error { return ErrHMAC }

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// Vault holds the passwords of a run and remembers every secret it decrypted, so output
// can mask them. A nil *Vault has no password: decrypting with it fails with
// ErrNoPassword, and it masks nothing. Its methods are safe for concurrent use.
type Vault struct {
	passwords []Password
	secrets   secretSet
}

// New returns a Vault trying passwords in the order given (after any whose label matches
// the envelope's vault id).
func New(passwords ...Password) *Vault {
	return &Vault{passwords: passwords}
}

// Passwords returns the number of passwords v holds.
func (v *Vault) Passwords() int {
	if v == nil {
		return 0
	}
	return len(v.passwords)
}

// Decrypt opens a vault text with the passwords of v: those whose label matches the
// envelope's vault id first, then all the others in order, as Ansible does. It returns
// the plaintext and the label of the password that opened it. The plaintext is not
// recorded as a secret; callers decide what in it is one.
func (v *Vault) Decrypt(text []byte) ([]byte, string, error) {
	env, err := Parse(text)
	if err != nil {
		return nil, "", err
	}
	if v.Passwords() == 0 {
		return nil, "", ErrNoPassword
	}
	order := make([]Password, 0, len(v.passwords))
	for _, p := range v.passwords {
		if env.Label != "" && p.Label == env.Label {
			order = append(order, p)
		}
	}
	for _, p := range v.passwords {
		if env.Label == "" || p.Label != env.Label {
			order = append(order, p)
		}
	}
	derr := &DecryptError{Label: env.Label}
	for _, p := range order {
		plain, err := env.Open(p.Secret)
		if err == nil {
			return plain, p.Label, nil
		}
		if !errors.Is(err, ErrHMAC) {
			return nil, "", err
		}
		derr.Tried = append(derr.Tried, p.Label)
	}
	return nil, "", derr
}

// DecryptFile returns data unchanged when it is not a vault text, else its plaintext. An
// error is an *Error naming file.
func (v *Vault) DecryptFile(file string, data []byte) (plain []byte, encrypted bool, err error) {
	if !IsEncrypted(data) {
		return data, false, nil
	}
	plain, _, err = v.Decrypt(data)
	if err != nil {
		return nil, true, &Error{File: file, Err: err}
	}
	return plain, true, nil
}

// Encrypt seals plaintext with the first password of v whose label is label, or with
// the first password when label is "".
func (v *Vault) Encrypt(plaintext []byte, label string) ([]byte, error) {
	if v.Passwords() == 0 {
		return nil, errors.New("no vault password given to encrypt with")
	}
	p := v.passwords[0]
	if label != "" {
		found := false
		for _, q := range v.passwords {
			if q.Label == label {
				p, found = q, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("no vault password has the vault id %q", label)
		}
	}
	env, err := Seal(plaintext, p.Secret, p.Label)
	if err != nil {
		return nil, err
	}
	return env.Format(), nil
}
