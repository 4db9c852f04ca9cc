package tui

// Controller is what the UI needs from the engine to steer a run. Pause takes effect
// after the current wave; Abort stops the run and rolls back what the rollout's rules
// say. Calls must not block the UI for long.
type Controller interface {
	Pause()
	Resume()
	Abort()
}

// noController is used when a run cannot be steered (a replay, a test).
type noController struct{}

func (noController) Pause()  {}
func (noController) Resume() {}
func (noController) Abort()  {}
