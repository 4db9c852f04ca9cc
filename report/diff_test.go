package report

import "testing"

// TestFileDiff: the diff blocks as ansible-playbook --diff prints them (taken from its
// output for copy, file and lineinfile).
func TestFileDiff(t *testing.T) {
	for _, c := range []struct {
		name string
		diff any
		want string
	}{
		{"content", []any{map[string]any{"before_header": "/tmp/dt/target.txt", "after_header": "/tmp/dt/target.txt",
			"before": "old line\nkeep\n", "after": "new line\nkeep\nmore\n"}},
			"--- before: /tmp/dt/target.txt\n+++ after: /tmp/dt/target.txt\n@@ -1,2 +1,3 @@\n-old line\n+new line\n keep\n+more\n\n"},
		{"structured", map[string]any{"before": map[string]any{"path": "/tmp/dt/touched", "state": "absent"},
			"after": map[string]any{"path": "/tmp/dt/touched", "state": "touch"}},
			"--- before\n+++ after\n@@ -1,4 +1,4 @@\n {\n     \"path\": \"/tmp/dt/touched\",\n-    \"state\": \"absent\"\n+    \"state\": \"touch\"\n }\n\n"},
		{"no newline at the end", map[string]any{"before": "a\n", "after": "a\nb"},
			"--- before\n+++ after\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n\n"},
		{"same", map[string]any{"before": "a\n", "after": "a\n"}, ""},
		{"too large", []any{map[string]any{"dst_larger": 104448, "after": ""}}, "diff skipped: destination file size is greater than 104448\n"},
		{"binary", []any{map[string]any{"src_binary": 1}}, "diff skipped: source file appears to be binary\n"},
	} {
		if got := fileDiff(c.diff); got != c.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", c.name, got, c.want)
		}
	}
}
