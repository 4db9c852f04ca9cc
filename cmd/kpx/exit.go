package main

import (
	"errors"
)

// Exit codes follow ansible-playbook's, so scripts that wrap either tool read them alike.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitHostFailed  = 2
	ExitUnreachable = 4 // also parse errors, as ansible-playbook does
	ExitInterrupted = 99
	ExitInternal    = 250
)

// exitError ends a command with an exit code; an empty message prints nothing (the
// command's output has said it all, as ansible-playbook's recap does).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
func (e exitError) ExitCode() int { return e.code }

// exitCoder is implemented by errors that know which exit code they mean.
type exitCoder interface {
	ExitCode() int
}

// exitCode maps an error returned by a command to the process exit code. It is the only
// place that decides exit codes.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitError
}
