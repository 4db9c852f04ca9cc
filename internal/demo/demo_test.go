package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEmbeddedFilesMatchTestdata keeps the embedded copies identical to testdata/demo/,
// the files readers are pointed at.
func TestEmbeddedFilesMatchTestdata(t *testing.T) {
	for name, got := range map[string][]byte{InventoryName: Inventory(), PlaybookName: Playbook()} {
		want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "demo", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("internal/demo/files/%s differs from testdata/demo/%s: copy it over", name, name)
		}
	}
}

func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{24, "db_analytics=6:db-analytics01..db-analytics06 db_replica=14:db-replica01..db-replica14 db_primary=4:db-primary01..db-primary04 dbservers=0:db_analytics,db_replica,db_primary"},
		{3, "db_analytics=1:db-analytics01..db-analytics01 db_replica=1:db-replica01..db-replica01 db_primary=1:db-primary01..db-primary01 dbservers=0:db_analytics,db_replica,db_primary"},
		{2000, "db_analytics=500:db-analytics001..db-analytics500 db_replica=1167:db-replica0001..db-replica1167 db_primary=333:db-primary001..db-primary333 dbservers=0:db_analytics,db_replica,db_primary"},
	} {
		groups, err := Layout(t.TempDir(), tc.n)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		total := 0
		for _, g := range groups {
			s := g.Name + "=" + strconv.Itoa(len(g.Hosts)) + ":"
			if len(g.Hosts) > 0 {
				s += g.Hosts[0] + ".." + g.Hosts[len(g.Hosts)-1]
			}
			parts = append(parts, s+strings.Join(g.Children, ","))
			total += len(g.Hosts)
		}
		if got := strings.Join(parts, " "); got != tc.want || total != tc.n {
			t.Errorf("Layout(%d) = %s (%d hosts), want %s", tc.n, got, total, tc.want)
		}
	}
	if _, err := Layout(t.TempDir(), 2); err == nil || !strings.Contains(err.Error(), "--hosts 2") {
		t.Errorf("Layout(2): want an error naming --hosts, got %v", err)
	}
}
