package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// passwords are the fixtures' vault ids: default (password.txt) and prod.
func passwords(t *testing.T) (def, prod Password) {
	return Password{Label: DefaultLabel, Secret: []byte("correct horse battery staple")},
		Password{Label: "prod", Secret: []byte("prod-vault-pw")}
}

func TestDecryptAnsibleVaultFiles(t *testing.T) {
	def, prod := passwords(t)
	tests := []struct {
		file      string
		pws       []Password
		want      string
		wantLabel string
	}{
		{"vars-1.1.yml", []Password{def}, "db_password: s3cr3t-whole-file-11\napi_token: \"tok-0123456789\"\n", DefaultLabel},
		{"vars-1.2.yml", []Password{prod}, "db_password: s3cr3t-whole-file-12\n", "prod"},
		// the label matching the envelope's vault id is tried first, then the others
		{"vars-1.2.yml", []Password{def, prod}, "db_password: s3cr3t-whole-file-12\n", "prod"},
		// a 1.1 text, or a label nobody has, is tried with every password in order
		{"vars-1.1.yml", []Password{prod, def}, "db_password: s3cr3t-whole-file-11\napi_token: \"tok-0123456789\"\n", DefaultLabel},
		{"vars-1.2.yml", []Password{def, {Label: "other", Secret: prod.Secret}}, "db_password: s3cr3t-whole-file-12\n", "other"},
		{"multiline.vault", []Password{def}, "multi\nline secret: \"with\" üñíçødé\n", DefaultLabel},
		{"empty.vault", []Password{def}, "", DefaultLabel},
		{"block16.vault", []Password{def}, "0123456789abcdef", DefaultLabel},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			plain, label, err := New(tt.pws...).Decrypt(fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if string(plain) != tt.want || label != tt.wantLabel {
				t.Errorf("got %q (vault id %q), want %q (vault id %q)", plain, label, tt.want, tt.wantLabel)
			}
		})
	}
}

func TestDecryptFailures(t *testing.T) {
	def, prod := passwords(t)
	good := fixture(t, "vars-1.1.yml")
	// tamper flips one bit of the decoded envelope's part and writes it back, as an
	// attacker who knows the format would.
	tamper := func(part func(*Envelope) []byte) []byte {
		env, err := Parse(good)
		if err != nil {
			t.Fatal(err)
		}
		part(env)[3] ^= 0x04
		return env.Format()
	}
	ciphertext := func(e *Envelope) []byte { return e.Ciphertext }
	salt := func(e *Envelope) []byte { return e.Salt }
	tests := []struct {
		name string
		text []byte
		pws  []Password
		want string // in the message
		is   error
	}{
		{"wrong password", good, []Password{{Label: DefaultLabel, Secret: []byte("nope")}}, `HMAC-SHA256 of the ciphertext does not match with the password of vault id "default": the password is wrong, or the ciphertext was altered`, ErrHMAC},
		{"wrong passwords, 1.2", fixture(t, "vars-1.2.yml"), []Password{def, {Label: "prod", Secret: []byte("x")}}, `decryption failed (encrypted with vault id "prod"): HMAC-SHA256 of the ciphertext does not match with the password of vault id "prod", "default"`, ErrHMAC},
		{"tampered ciphertext", tamper(ciphertext), []Password{def}, "HMAC-SHA256 of the ciphertext does not match", ErrHMAC},
		{"tampered salt", tamper(salt), []Password{def}, "HMAC-SHA256 of the ciphertext does not match", ErrHMAC},
		{"no password", good, nil, "no vault password was given: use --vault-password-file FILE, --ask-vault-pass or --vault-id", ErrNoPassword},
		{"not hex", append(bytes.Clone(good[:len(good)-3]), 'z', 'z', '\n'), []Password{prod}, "malformed vault text, line 8: column 35: 'z' is not a hexadecimal digit", nil},
		{"truncated", good[:len(good)-4], []Password{prod}, "malformed vault text", nil},
		{"no body", []byte("$ANSIBLE_VAULT;1.1;AES256\n"), []Password{def}, "no encrypted data after the header", nil},
		{"bad version", []byte("$ANSIBLE_VAULT;2.0;AES256\n00\n"), []Password{def}, `unsupported vault format version "2.0"`, nil},
		{"bad cipher", []byte("$ANSIBLE_VAULT;1.1;AES128\n00\n"), []Password{def}, `unsupported cipher "AES128"`, nil},
		{"1.2 without id", []byte("$ANSIBLE_VAULT;1.2;AES256\n00\n"), []Password{def}, "version 1.2 takes one vault id", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := New(tt.pws...).Decrypt(tt.text)
			if err == nil {
				t.Fatal("decrypted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestDecryptFileNamesTheFile(t *testing.T) {
	var v *Vault // no password
	plain, enc, err := v.DecryptFile("group_vars/all.yml", []byte("a: 1\n"))
	if err != nil || enc || string(plain) != "a: 1\n" {
		t.Fatalf("plain text: %q %v %v", plain, enc, err)
	}
	_, enc, err = v.DecryptFile("group_vars/all.yml", fixture(t, "vars-1.1.yml"))
	var ve *Error
	if !enc || !errors.As(err, &ve) || ve.File != "group_vars/all.yml" || ve.ExitCode() != 1 ||
		!strings.HasPrefix(err.Error(), "group_vars/all.yml: vault: ") {
		t.Errorf("got %v (encrypted %v)", err, enc)
	}
}

func TestSealRoundTrip(t *testing.T) {
	tests := []struct {
		label, version string
		plain          string
	}{
		{"", "1.1", ""},
		{DefaultLabel, "1.1", "0123456789abcdef"},
		{"prod", "1.2", "a: 1\nb: [x, y]\n"},
	}
	for _, tt := range tests {
		v := New(Password{Label: tt.label, Secret: []byte("pw")})
		text, err := v.Encrypt([]byte(tt.plain), "")
		if err != nil {
			t.Fatal(err)
		}
		env, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if env.Version != tt.version || !bytes.Equal(env.Format(), text) {
			t.Errorf("%q: version %s, format round trip %v", tt.label, env.Version, bytes.Equal(env.Format(), text))
		}
		for _, l := range strings.Split(strings.TrimSpace(string(text)), "\n")[1:] {
			if len(l) > lineLen {
				t.Errorf("line %q longer than %d", l, lineLen)
			}
		}
		got, _, err := v.Decrypt(text)
		if err != nil || string(got) != tt.plain {
			t.Errorf("%q: round trip gave %q, %v", tt.label, got, err)
		}
	}
}

func TestDecryptNodes(t *testing.T) {
	def, prod := passwords(t)
	v := New(def, prod)
	var doc yaml.Node
	if err := yaml.Unmarshal(fixture(t, "inline.yml"), &doc); err != nil {
		t.Fatal(err)
	}
	if err := v.DecryptNodes("inline.yml", &doc); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := doc.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"db_password": "inline-secret-11", "api_token": "inline-secret-12", "plain": "not-a-secret"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %#v, want %q", k, got[k], w)
		}
	}
	if m := v.Mask("pw=inline-secret-11 tok=inline-secret-12 not-a-secret"); m != "pw=******** tok=******** not-a-secret" {
		t.Errorf("Mask: %q", m)
	}

	// a wrong password names the file, line and column of the value
	bad := New(Password{Label: DefaultLabel, Secret: []byte("wrong")}, prod)
	yaml.Unmarshal(fixture(t, "inline.yml"), &doc)
	err := bad.DecryptNodes("inline.yml", &doc)
	if err == nil || !strings.HasPrefix(err.Error(), "inline.yml:2:14: vault: decryption failed") {
		t.Errorf("wrong password: %v", err)
	}
}

func TestMask(t *testing.T) {
	v := New()
	v.AddSecret("hunter2-long", "hunter2-long-and-longer", "yes", "  ", "with-newline\n", "-----BEGIN KEY-----\r\nline-two\n")
	tests := []struct{ in, want string }{
		{"", ""},
		{"hunter2-long", Mask},
		{"x hunter2-long-and-longer y", "x ******** y"},
		{"yes", Mask}, // short secrets: whole values only
		{"yes or no", "yes or no"},
		{"got with-newline", "got ********"},
		{"nothing here", "nothing here"},
		{"line-two", Mask}, // stdout_lines cut a multi-line secret into lines
		{"[-----BEGIN KEY-----]", "[********]"},
		{"token: aHVudGVyMi1sb25n", "token: ********"},                 // hunter2-long | b64encode
		{"d2l0aC1uZXdsaW5lCg== d2l0aC1uZXdsaW5l", "******** ********"}, // with and without its newline
		{"eWVz", "eWVz"},                                               // short secrets: no encoded form
		{"HUNTER2-LONG", "HUNTER2-LONG"},                               // other derived forms are not masked (documented)
	}
	for _, tt := range tests {
		if got := v.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var none *Vault
	if none.Mask("hunter2-long") != "hunter2-long" || none.HasSecrets() {
		t.Error("a nil Vault masks nothing")
	}
}
