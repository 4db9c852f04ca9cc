package transport

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKnownHostsCacheReusesUntilAFileChanges(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "missing")
	line := "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEsQqj5Bp1dBsGqCi/ba3Zd6J0pPjZqjK/R1Dp+qz0yz\n"
	if err := os.WriteFile(a, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newKnownHostsCache()
	db1, existing, err := c.load([]string{a, b})
	if err != nil || len(existing) != 1 || existing[0] != a {
		t.Fatalf("load: %v %v", existing, err)
	}
	db2, _, _ := c.load([]string{a, b})
	if db1 != db2 {
		t.Error("unchanged files parsed again")
	}
	if err := os.WriteFile(b, []byte(line), 0o600); err != nil { // the missing file appears
		t.Fatal(err)
	}
	db3, existing, _ := c.load([]string{a, b})
	if db3 == db1 || len(existing) != 2 {
		t.Errorf("a new file was not read: %v", existing)
	}
	f, _ := os.OpenFile(a, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("[127.0.0.1]:2223 " + line[len("[127.0.0.1]:2222 "):])
	f.Close()
	if db4, _, _ := c.load([]string{a, b}); db4 == db3 {
		t.Error("an appended file (accept-new) was not read again")
	}
	var nilCache *knownHostsCache
	if db, _, err := nilCache.load([]string{a}); err != nil || db == nil {
		t.Errorf("nil cache: %v", err)
	}
}
