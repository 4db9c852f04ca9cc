package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

// becomePlan is a command wrapped for privilege escalation. The password is never part of
// Command: it is written to the command's stdin when Prompt appears on its output.
type becomePlan struct {
	Command  string
	Method   string
	User     string
	Password string
	Prompt   string // unique prompt sudo prints before reading the password ("" if none)
	Marker   string // printed on stdout once escalation succeeded ("" if none)
	PTY      bool   // su reads the password from a terminal
}

func randomToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// planBecome wraps script for b. With no method, the script runs as is.
func planBecome(b Become, script string) (becomePlan, error) {
	user := b.User
	if user == "" {
		user = "root"
	}
	p := becomePlan{Method: b.Method, User: user, Password: b.Password}
	flags := ""
	if b.Flags != "" {
		words, err := SplitShellWords(b.Flags)
		if err != nil {
			return p, fmt.Errorf("become flags: %w", err)
		}
		flags = QuoteArgv(words) + " "
	}
	switch b.Method {
	case "":
		p.Command = script
	case "sudo":
		if b.Password == "" {
			p.Command = fmt.Sprintf("sudo -H -n %s-u %s -- /bin/sh -c %s", flags, Quote(user), Quote(script))
			return p, nil
		}
		tok := randomToken()
		p.Prompt = "[kpx-sudo-" + tok + "] password: "
		p.Marker = "KPX-BECOME-SUCCESS-" + tok
		inner := "echo " + p.Marker + "; " + script
		p.Command = fmt.Sprintf("sudo -H -S -p %s %s-u %s -- /bin/sh -c %s", Quote(p.Prompt), flags, Quote(user), Quote(inner))
	case "su":
		tok := randomToken()
		p.Marker = "KPX-BECOME-SUCCESS-" + tok
		p.PTY = b.Password != ""
		if p.PTY {
			p.Prompt = "assword:" // su's PAM prompt ("Password: "); matched loosely
		}
		inner := "echo " + p.Marker + "; " + script
		p.Command = fmt.Sprintf("su %s%s -s /bin/sh -c %s", flags, Quote(user), Quote(inner))
	default:
		return p, fmt.Errorf("unsupported become method %q (sudo, su)", b.Method)
	}
	return p, nil
}

// becomeWatch follows a wrapped command's output: it signals each prompt (so the
// password can be written) and the success marker (so the caller's stdin can flow),
// and strips both from what the caller sees.
type becomeWatch struct {
	plan    becomePlan
	mu      sync.Mutex
	prompts int
	marked  bool
	events  chan string // "prompt" or "marker"
	head    bytes.Buffer
}

func newBecomeWatch(p becomePlan) *becomeWatch {
	return &becomeWatch{plan: p, events: make(chan string, 8)}
}

// promptWriter counts prompts in a stream (sudo writes its prompt to stderr).
type promptWriter struct {
	w    *becomeWatch
	buf  bytes.Buffer
	seen int
}

func (pw *promptWriter) Write(b []byte) (int, error) {
	pw.buf.Write(b)
	if pw.w.plan.Prompt == "" {
		return len(b), nil
	}
	n := bytes.Count(pw.buf.Bytes(), []byte(pw.w.plan.Prompt))
	for ; pw.seen < n; pw.seen++ {
		pw.w.mu.Lock()
		pw.w.prompts++
		pw.w.mu.Unlock()
		pw.w.send("prompt")
	}
	return len(b), nil
}

func (pw *promptWriter) output() []byte {
	if pw.w.plan.Prompt == "" || pw.w.plan.PTY {
		return pw.buf.Bytes()
	}
	return bytes.ReplaceAll(pw.buf.Bytes(), []byte(pw.w.plan.Prompt), nil)
}

func (w *becomeWatch) send(ev string) {
	select {
	case w.events <- ev:
	default:
	}
}

// markerWriter passes stdout through once the marker line has been seen and removed.
type markerWriter struct {
	w   *becomeWatch
	out bytes.Buffer
}

func (mw *markerWriter) Write(b []byte) (int, error) {
	w := mw.w
	if w.plan.Marker == "" || w.isMarked() {
		mw.out.Write(b)
		return len(b), nil
	}
	w.head.Write(b)
	i := bytes.Index(w.head.Bytes(), []byte(w.plan.Marker))
	if i < 0 {
		return len(b), nil
	}
	rest := w.head.Bytes()[i+len(w.plan.Marker):]
	rest = bytes.TrimPrefix(bytes.TrimPrefix(rest, []byte("\r")), []byte("\n"))
	mw.out.Write(rest)
	w.mu.Lock()
	w.marked = true
	w.mu.Unlock()
	w.send("marker")
	return len(b), nil
}

func (w *becomeWatch) isMarked() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.marked
}

// failure explains a wrapped command that ended before escalation succeeded.
func (w *becomeWatch) failure(stderr []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	msg := strings.TrimSpace(string(stderr))
	if w.plan.Prompt != "" {
		msg = strings.TrimSpace(strings.ReplaceAll(msg, w.plan.Prompt, ""))
	}
	if w.plan.PTY {
		msg = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(w.head.Bytes())), "Password:"))
	}
	if w.prompts > 1 {
		msg = "incorrect password"
	}
	if msg == "" {
		msg = "escalation did not succeed"
	}
	return &BecomeError{Method: w.plan.Method, User: w.plan.User, Msg: msg}
}

// sudoNeedsPassword recognises sudo -n refusing for lack of a password.
func sudoNeedsPassword(stderr []byte) bool {
	return bytes.Contains(stderr, []byte("sudo: a password is required")) ||
		bytes.Contains(stderr, []byte("sudo: a terminal is required"))
}
