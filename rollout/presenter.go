package rollout

import "sync"

// presenterQueue hands events to the presenter (Options.Emit) in order, on a goroutine of
// its own, so that a slow presenter — a terminal that scrolls, a pipe nobody reads yet, a
// TUI busy redrawing — never holds up the engine. The journal is not behind it: emit
// writes (and fsyncs) every event before queueing it.
//
// The queue is unbounded: events are small next to the work that produces them (a host
// result is a few hundred bytes, the engine produces at most a few per host and task), and
// dropping or blocking are both worse for a rollout than holding them for a moment. One
// goroutine delivers at a time, and only while there is something to deliver; flush waits
// until every event queued before it has been delivered.
type presenterQueue struct {
	deliver func(Event)

	mu       sync.Mutex
	idle     *sync.Cond // signalled when the deliverer stops with nothing left
	pending  []Event
	running  bool
	maxDepth int // the longest the queue has been, for tests and benchmarks
}

func newPresenterQueue(deliver func(Event)) *presenterQueue {
	q := &presenterQueue{deliver: deliver}
	q.idle = sync.NewCond(&q.mu)
	return q
}

// push queues ev and returns at once.
func (q *presenterQueue) push(ev Event) {
	q.mu.Lock()
	q.pending = append(q.pending, ev)
	q.maxDepth = max(q.maxDepth, len(q.pending))
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.run()
	}
}

// run delivers queued events in order until the queue is empty.
func (q *presenterQueue) run() {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			q.pending = nil // let a burst's backing array go
			q.idle.Broadcast()
			q.mu.Unlock()
			return
		}
		batch := q.pending
		q.pending = make([]Event, 0, min(len(batch), 64))
		q.mu.Unlock()
		for _, ev := range batch {
			q.deliver(ev)
		}
	}
}

// flush returns once every event pushed before it has been delivered.
func (q *presenterQueue) flush() {
	q.mu.Lock()
	for q.running {
		q.idle.Wait()
	}
	q.mu.Unlock()
}

// depth is the most events that have waited at once.
func (q *presenterQueue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.maxDepth
}
