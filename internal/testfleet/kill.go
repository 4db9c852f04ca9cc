package testfleet

// Kill stops the host's sshd and every session it serves: from then on the host cannot
// be reached, as when a machine dies in the middle of a rollout. It is idempotent.
func (h *Host) Kill() { h.stop() }
