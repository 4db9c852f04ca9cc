// Package vault reads and writes what ansible-vault writes: files encrypted whole
// ("$ANSIBLE_VAULT;1.1;AES256" and "$ANSIBLE_VAULT;1.2;AES256;label") and the inline
// `!vault |` values of YAML files. The format is Ansible's public one: a hexlified envelope
// of salt, HMAC and ciphertext; PBKDF2-SHA256 (10000 iterations) derives an AES-256 key,
// an HMAC-SHA256 key and a CTR counter block from the password; the HMAC of the ciphertext
// is checked, in constant time, before anything is decrypted.
//
// It also keeps the passwords (vault ids) a run was given and the plaintext it decrypted,
// so that output can mask those secrets (see Vault.Mask).
package vault

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
)

// Header starts every vault-encrypted text.
const Header = "$ANSIBLE_VAULT"

// DefaultLabel is the vault id of a password given without a label, as Ansible names it.
const DefaultLabel = "default"

const (
	saltLen = 32
	lineLen = 80 // ansible-vault wraps the hex body at 80 columns
)

// Envelope is a parsed vault text: the header fields and the three binary parts.
type Envelope struct {
	Version    string // "1.1" or "1.2"
	Cipher     string // "AES256"
	Label      string // the vault id of a 1.2 envelope; "" for 1.1
	Salt       []byte
	HMAC       []byte
	Ciphertext []byte
}

// IsEncrypted reports whether data is a vault text: it starts with the vault header.
func IsEncrypted(data []byte) bool {
	return bytes.HasPrefix(data, []byte(Header+";"))
}

// EnvelopeError is a vault text that is not well formed. Line is the line of the vault
// text (1 is the header) the problem was found on, 0 when it concerns the whole text.
type EnvelopeError struct {
	Line int
	Msg  string
}

func (e *EnvelopeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("malformed vault text, line %d: %s", e.Line, e.Msg)
	}
	return "malformed vault text: " + e.Msg
}

// Parse reads a vault text: the header line, then the hexlified body on any number of
// lines. Surrounding white space on each line is ignored, as inline values in YAML carry
// indentation.
func Parse(data []byte) (*Envelope, error) {
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	env, err := parseHeader(strings.TrimSpace(lines[0]))
	if err != nil {
		return nil, err
	}
	var body strings.Builder
	for i, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if j := strings.IndexFunc(l, notHex); j >= 0 {
			return nil, &EnvelopeError{Line: i + 2, Msg: fmt.Sprintf("column %d: %q is not a hexadecimal digit", j+1, l[j])}
		}
		body.WriteString(l)
	}
	if body.Len() == 0 {
		return nil, &EnvelopeError{Msg: "no encrypted data after the header"}
	}
	if body.Len()%2 != 0 {
		return nil, &EnvelopeError{Msg: "odd number of hexadecimal digits (truncated?)"}
	}
	inner, _ := hex.DecodeString(body.String())
	parts := bytes.SplitN(inner, []byte("\n"), 3)
	if len(parts) != 3 {
		return nil, &EnvelopeError{Msg: "the body must hold salt, HMAC and ciphertext on three lines"}
	}
	names := [3]string{"salt", "HMAC", "ciphertext"}
	var dec [3][]byte
	for i, p := range parts {
		if dec[i], err = hex.DecodeString(string(p)); err != nil || len(p) == 0 {
			return nil, &EnvelopeError{Msg: fmt.Sprintf("the %s is not hexadecimal", names[i])}
		}
	}
	env.Salt, env.HMAC, env.Ciphertext = dec[0], dec[1], dec[2]
	switch {
	case len(env.HMAC) != 32:
		return nil, &EnvelopeError{Msg: fmt.Sprintf("the HMAC is %d bytes, want 32 (SHA-256)", len(env.HMAC))}
	case len(env.Ciphertext)%16 != 0:
		return nil, &EnvelopeError{Msg: fmt.Sprintf("the ciphertext is %d bytes, not a whole number of AES blocks (truncated or altered)", len(env.Ciphertext))}
	}
	return env, nil
}

func notHex(r rune) bool {
	return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F')
}

func parseHeader(h string) (*Envelope, error) {
	f := strings.Split(h, ";")
	if f[0] != Header {
		return nil, &EnvelopeError{Line: 1, Msg: fmt.Sprintf("does not start with %s", Header)}
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	if len(f) < 3 {
		return nil, &EnvelopeError{Line: 1, Msg: fmt.Sprintf("header %q lacks version and cipher", h)}
	}
	env := &Envelope{Version: f[1], Cipher: f[2]}
	switch {
	case env.Version == "1.1" && len(f) == 3:
	case env.Version == "1.2" && len(f) == 4 && f[3] != "":
		env.Label = f[3]
	case env.Version == "1.1" || env.Version == "1.2":
		return nil, &EnvelopeError{Line: 1, Msg: fmt.Sprintf("header %q: version %s takes %s", h, env.Version, map[string]string{"1.1": "no vault id", "1.2": "one vault id"}[env.Version])}
	default:
		return nil, &EnvelopeError{Line: 1, Msg: fmt.Sprintf("unsupported vault format version %q (1.1 and 1.2 are)", env.Version)}
	}
	if env.Cipher != "AES256" {
		return nil, &EnvelopeError{Line: 1, Msg: fmt.Sprintf("unsupported cipher %q (AES256 is)", env.Cipher)}
	}
	return env, nil
}

// Format writes env as ansible-vault does: the header, then the hex body wrapped at 80
// columns, with a final newline.
func (env *Envelope) Format() []byte {
	var b bytes.Buffer
	b.WriteString(Header + ";" + env.Version + ";" + env.Cipher)
	if env.Label != "" {
		b.WriteString(";" + env.Label)
	}
	b.WriteByte('\n')
	inner := hex.EncodeToString(env.Salt) + "\n" + hex.EncodeToString(env.HMAC) + "\n" + hex.EncodeToString(env.Ciphertext)
	body := hex.EncodeToString([]byte(inner))
	for len(body) > lineLen {
		b.WriteString(body[:lineLen] + "\n")
		body = body[lineLen:]
	}
	b.WriteString(body + "\n")
	return b.Bytes()
}
