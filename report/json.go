package report

import (
	"io"
	"time"

	"github.com/kpxdev/kpx/rollout"
)

// JSON writes every event as one JSON line (rollout.EncodeEvent: the journal's format),
// for scripts: {"seq":1,"time":"...","type":"host_result","event":{...}}. docs/EVENTS.md
// documents every type. It is not safe for concurrent use: the engine delivers events
// one at a time.
type JSON struct {
	w   io.Writer
	seq int64
	err error
	// Now stamps the events; nil is time.Now.
	Now func() time.Time
}

// NewJSON returns a presenter writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w} }

// Err returns the first encoding or write error, if any.
func (j *JSON) Err() error { return j.err }

// Handle writes one event.
func (j *JSON) Handle(ev rollout.Event) {
	if j.err != nil {
		return
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	j.seq++
	line, err := rollout.EncodeEvent(j.seq, now(), ev)
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(append(line, '\n'))
}
