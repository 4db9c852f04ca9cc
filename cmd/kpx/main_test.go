package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"version"}, &out, &errOut)
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"kpx ", version, runtime.Version()} {
		if !strings.Contains(got, want) {
			t.Errorf("version output %q lacks %q", got, want)
		}
	}
}

func TestHelpListsCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, errOut.String())
	}
	if !strings.Contains(out.String(), "version") {
		t.Errorf("help does not list the version command:\n%s", out.String())
	}
}

func TestUnknownCommandIsAnError(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"frobnicate"}, &out, &errOut)
	if code != ExitError {
		t.Fatalf("exit code %d, want %d", code, ExitError)
	}
	if !strings.Contains(errOut.String(), "frobnicate") {
		t.Errorf("error does not name the command: %q", errOut.String())
	}
}

type codedErr struct{ code int }

func (e codedErr) Error() string { return fmt.Sprintf("coded %d", e.code) }
func (e codedErr) ExitCode() int { return e.code }

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("boom"), ExitError},
		{"coded", codedErr{ExitUnreachable}, ExitUnreachable},
		{"wrapped", fmt.Errorf("run: %w", codedErr{ExitHostFailed}), ExitHostFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
