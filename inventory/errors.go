package inventory

import "fmt"

// ParseError is an inventory source that could not be read: the file, the position (Col is 0
// when unknown) and the offending text.
type ParseError struct {
	File string
	Line int
	Col  int
	Msg  string
	Text string
	Err  error // an underlying cause, if any
}

// Unwrap returns the underlying cause.
func (e *ParseError) Unwrap() error { return e.Err }

func (e *ParseError) Error() string {
	pos := e.File
	if e.Line > 0 {
		pos = fmt.Sprintf("%s:%d", pos, e.Line)
		if e.Col > 0 {
			pos = fmt.Sprintf("%s:%d", pos, e.Col)
		}
	}
	if e.Text != "" {
		return fmt.Sprintf("%s: %s: %q", pos, e.Msg, e.Text)
	}
	return fmt.Sprintf("%s: %s", pos, e.Msg)
}
