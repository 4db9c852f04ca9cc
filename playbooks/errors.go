package playbooks

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// ParseError is a problem with a playbook, placed at the file, line and column of the YAML
// node it concerns. Line and Col are 1-based; 0 means unknown.
type ParseError struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
}

// ExitCode is 4, as ansible-playbook exits on a parse error.
func (e *ParseError) ExitCode() int { return 4 }

// nodeError places msg at n. The file is filled in by the loader, which knows it.
func nodeError(n *yaml.Node, format string, args ...any) *ParseError {
	e := &ParseError{Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}
