package vault

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds the envelope parser arbitrary text: it must never panic, and whatever
// it accepts must write back to an envelope that parses to the same parts.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"vars-1.1.yml", "vars-1.2.yml", "empty.vault", "block16.vault"} {
		b, err := readFixture(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("$ANSIBLE_VAULT;1.2;AES256;x\n0a0a\n"))
	f.Add([]byte("$ANSIBLE_VAULT;1.1;AES256\n  3030\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data)
		if err != nil {
			return
		}
		again, err := Parse(env.Format())
		if err != nil {
			t.Fatalf("Format of a parsed envelope does not parse: %v", err)
		}
		if again.Label != env.Label || again.Version != env.Version || !bytes.Equal(again.Salt, env.Salt) ||
			!bytes.Equal(again.HMAC, env.HMAC) || !bytes.Equal(again.Ciphertext, env.Ciphertext) {
			t.Fatalf("round trip changed the envelope")
		}
		// decrypting a parsed envelope fails cleanly (the HMAC), it does not panic
		if _, err := env.Open([]byte("pw")); err == nil && len(env.Ciphertext) == 0 {
			t.Fatalf("an empty ciphertext opened")
		}
	})
}

func readFixture(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }
