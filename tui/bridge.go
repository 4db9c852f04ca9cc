package tui

import (
	"context"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kpxdev/kpx/rollout"
)

// EventsMsg carries the events the engine emitted since the last batch, in order, and
// when the batch was handed over.
type EventsMsg struct {
	Events []rollout.Event
	At     time.Time
}

// DefaultBatchInterval is how often a Bridge hands events to the UI: fast enough to feel
// live, slow enough that a 10,000-host fleet is one update per tick.
const DefaultBatchInterval = 50 * time.Millisecond

// Bridge collects the engine's events and hands them to the UI in batches. Emit is safe
// for concurrent use and never blocks on the UI.
type Bridge struct {
	mu      sync.Mutex
	pending []rollout.Event
	last    []rollout.Event // the batch handed over last
	taken   int64           // events handed over so far
	now     func() time.Time
}

// NewBridge returns an empty Bridge.
func NewBridge() *Bridge { return &Bridge{now: time.Now} }

// Emit queues ev for the next batch. Pass it as rollout.Options.Emit.
func (b *Bridge) Emit(ev rollout.Event) {
	b.mu.Lock()
	b.pending = append(b.pending, ev)
	b.mu.Unlock()
}

// Take returns the queued events and empties the queue; nil when there are none.
func (b *Bridge) Take() []rollout.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	evs := b.pending
	b.pending = nil
	if len(evs) > 0 {
		b.last = evs
		b.taken += int64(len(evs))
	}
	return evs
}

// Since returns the events a consumer that applied the first n events has not seen: the
// tail of the last batch (which a program that had just exited did not receive) and the
// queue. It is how the summary printed after the UI exits stays complete.
func (b *Bridge) Since(n int64) []rollout.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []rollout.Event
	if missed := b.taken - n; missed > 0 && missed <= int64(len(b.last)) {
		out = append(out, b.last[int64(len(b.last))-missed:]...)
	}
	out = append(out, b.pending...)
	b.taken += int64(len(b.pending))
	b.last, b.pending = nil, nil
	return out
}

// Run sends one EventsMsg per interval (when events arrived) until ctx ends; what is
// queued then stays for Since.
func (b *Bridge) Run(ctx context.Context, send func(tea.Msg), interval time.Duration) {
	if interval <= 0 {
		interval = DefaultBatchInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.flush(send)
		}
	}
}

func (b *Bridge) flush(send func(tea.Msg)) {
	if evs := b.Take(); len(evs) > 0 {
		send(EventsMsg{Events: evs, At: b.now()})
	}
}
