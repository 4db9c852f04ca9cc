package main

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps the journals of the runs the tests make out of the user's state
// directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kpx-test-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("KPX_STATE_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
