package inventory

import (
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

func requireTool(t testing.TB, name string) string { return testfleet.RequireTool(t, name) }

func ansibleEnv(dir string) []string { return testfleet.AnsibleEnv(dir) }
