package demo

import (
	"context"
	"os"
	"path/filepath"

	"github.com/kpxdev/kpx/internal/simfleet"
)

// dbHealth stands for a database's own health check on the simulated hosts: healthy,
// unless the host carries simfleet's fail marker.
const dbHealth = `#!/bin/sh
if [ -e "$SIMFLEET_FAIL_MARKER" ]; then
	echo "postgres on $SIMFLEET_HOST: $(cat "$SIMFLEET_FAIL_MARKER")" >&2
	exit 1
fi
echo "postgres on $SIMFLEET_HOST: accepting connections, replication lag 0s"
`

// Prepare sets up a simulated host of the demo: its tools in ~/bin, first on PATH.
func Prepare(_ context.Context, h *simfleet.Host) (map[string]string, error) {
	bin := filepath.Join(h.Dir, "bin")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(bin, "db-health"), []byte(dbHealth), 0o700); err != nil {
		return nil, err
	}
	return map[string]string{"PATH": bin + ":" + h.Env["PATH"]}, nil
}
