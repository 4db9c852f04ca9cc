// Package tui is kpx's terminal UI: a bubbletea program fed by rollout events that shows
// the run (header, waves, hosts, details of one host) and lets the operator steer it
// (pause after the current wave, resume, abort).
//
// Events reach the UI in batches: a Bridge collects what the engine emits and hands the
// program one EventsMsg per tick, so that a fleet of 10,000 hosts costs one update and at
// most one redraw per tick rather than one per event. The UI never calls the engine
// directly; it drives a Controller, the small interface this package declares.
package tui
