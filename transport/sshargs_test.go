package transport

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitShellWords(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "  -o  A=b  ", want: []string{"-o", "A=b"}},
		{in: `-o 'ProxyCommand=ssh -W %h:%p bastion'`, want: []string{"-o", "ProxyCommand=ssh -W %h:%p bastion"}},
		{in: `-o "UserKnownHostsFile=/a b/kh" -J x`, want: []string{"-o", "UserKnownHostsFile=/a b/kh", "-J", "x"}},
		{in: `a\ b "c\"d" 'e\f' "g\h"`, want: []string{"a b", `c"d`, `e\f`, `g\h`}},
		{in: `''`, want: []string{""}},
		{in: `a'b'"c"`, want: []string{"abc"}},
		{in: `'open`, wantErr: true},
		{in: `"open`, wantErr: true},
		{in: `trailing\`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := SplitShellWords(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitShellWords(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseSSHArgs(t *testing.T) {
	tests := []struct {
		name     string
		args     string
		want     []Option
		warnings []string // substrings, one per warning
		wantErr  string
	}{
		{name: "dash o forms", args: "-o ProxyJump=b1 -oPort=2222 -o 'User admin' -o 'ConnectTimeout = 5'",
			want: []Option{{"ProxyJump", "b1"}, {"Port", "2222"}, {"User", "admin"}, {"ConnectTimeout", "5"}}},
		{name: "flags with values", args: "-J u@b:22 -i ~/.ssh/k -p 2200 -F cfg -l root",
			want: []Option{{"ProxyJump", "u@b:22"}, {"IdentityFile", "~/.ssh/k"}, {"Port", "2200"}, {"ConfigFile", "cfg"}, {"User", "root"}}},
		{name: "attached values", args: "-p2200 -i/k -Jb",
			want: []Option{{"Port", "2200"}, {"IdentityFile", "/k"}, {"ProxyJump", "b"}}},
		{name: "key case-insensitive", args: "-o stricthostkeychecking=no -o userknownhostsfile=/dev/null",
			want: []Option{{"StrictHostKeyChecking", "no"}, {"UserKnownHostsFile", "/dev/null"}}},
		{name: "ansible defaults are quiet", args: "-C -o ControlMaster=auto -o ControlPersist=60s -o BatchMode=yes -q",
			warnings: []string{"-C"}},
		{name: "unsupported option warned by name", args: "-o ProxyCommand='ssh -W %h:%p b' -o ForwardAgent=yes -A -L 80:x:80",
			warnings: []string{"ProxyCommand", "ForwardAgent", "-A", "-L 80:x:80"}},
		{name: "combined flags", args: "-qTp 22", want: []Option{{"Port", "22"}}},
		{name: "missing value", args: "-o", wantErr: "needs a value"},
		{name: "dash o without value", args: "-o Port=", wantErr: "no value"},
		{name: "bad -o", args: "-o =x", wantErr: "want Key=Value"},
		{name: "positional", args: "-p 22 host", wantErr: "unexpected"},
		{name: "unknown flag", args: "-Z", wantErr: "unknown option -Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words, err := SplitShellWords(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			got, warnings, err := ParseSSHArgs(words)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options %q, want %q", got, tt.want)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %d naming %q", warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q does not name %q", warnings[i], w)
				}
			}
		})
	}
}

// FuzzSSHArgs: splitting and parsing never panic, and what parses re-parses the same
// after quoting every word.
func FuzzSSHArgs(f *testing.F) {
	for _, s := range []string{"-o ProxyJump=a,b -J c", `-o "A B" -i 'x y'`, "-p2222 -qT", `\'"`, "-o=", "-F -o"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitShellWords(s)
		if err != nil {
			return
		}
		again, err := SplitShellWords(QuoteArgv(words))
		if err != nil || (len(words) > 0 && !reflect.DeepEqual(again, words)) {
			t.Fatalf("quote/split round trip: %q -> %q -> %q (%v)", s, words, again, err)
		}
		opts, _, err := ParseSSHArgs(words)
		if err != nil {
			return
		}
		for _, o := range opts {
			if o.Key == "" || o.Value == "" {
				t.Fatalf("empty option %+v from %q", o, s)
			}
		}
	})
}
