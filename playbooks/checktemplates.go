package playbooks

import "fmt"

// checkTemplates finds Jinja2 syntax errors (and unknown filters and tests) in everything a
// play will template, so that a typo stops the run at load time with its position rather
// than on the hosts halfway through a rollout.
func (l *loader) checkTemplates(p *Play) error {
	if err := l.checkValue(p.Vars, p.KeyPos["vars"]); err != nil {
		return err
	}
	for _, list := range [][]*Task{p.PreTasks, p.Tasks, p.PostTasks, p.Handlers} {
		if err := l.checkTaskTemplates(list); err != nil {
			return err
		}
	}
	if p.Health != nil {
		if err := l.checkTaskTemplates(p.Health.Checks); err != nil {
			return err
		}
	}
	if p.Rollback != nil {
		return l.checkTaskTemplates(p.Rollback.Tasks)
	}
	return nil
}

func (l *loader) checkTaskTemplates(tasks []*Task) error {
	for _, t := range tasks {
		if err := l.checkTask(t); err != nil {
			return err
		}
		if t.Block != nil {
			for _, list := range [][]*Task{t.Block.Block, t.Block.Rescue, t.Block.Always} {
				if err := l.checkTaskTemplates(list); err != nil {
					return err
				}
			}
		}
		if err := l.checkTaskTemplates(t.Included); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) checkTask(t *Task) error {
	for key, conds := range map[string][]string{"when": t.When, "changed_when": t.ChangedWhen, "failed_when": t.FailedWhen, "until": t.Until} {
		for _, c := range conds {
			if err := l.templar.CheckCondition(c); err != nil {
				return l.templateError(t, key, err)
			}
		}
	}
	for key, s := range map[string]string{"name": t.Name, "delegate_to": t.DelegateTo} {
		if err := l.templar.Check(s); err != nil {
			return l.templateError(t, key, err)
		}
	}
	for key, v := range map[string]any{"loop": t.Loop, "vars": t.Vars, "environment": t.Environment} {
		if err := l.checkValue(v, t.Pos); err != nil {
			if pe, ok := err.(*ParseError); ok {
				return l.at(pe, t.KeyPos, key, t.Pos)
			}
			return err
		}
	}
	if err := l.checkValue(map[string]any(t.Args), t.ArgsPos); err != nil {
		return err
	}
	return nil
}

// checkValue checks every string inside v.
func (l *loader) checkValue(v any, pos Pos) error {
	switch v := v.(type) {
	case string:
		if err := l.templar.Check(v); err != nil {
			return &ParseError{File: pos.File, Line: pos.Line, Col: pos.Col, Msg: err.Error()}
		}
	case []any:
		for _, x := range v {
			if err := l.checkValue(x, pos); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, x := range v {
			if err := l.checkValue(x, pos); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *loader) templateError(t *Task, key string, err error) *ParseError {
	return l.at(&ParseError{Msg: fmt.Sprintf("%s: %v", key, err)}, t.KeyPos, key, t.Pos)
}

// at places e at the keyword's position when known, else at fallback.
func (l *loader) at(e *ParseError, keyPos map[string]Pos, key string, fallback Pos) *ParseError {
	p, ok := keyPos[key]
	if !ok {
		p = fallback
	}
	e.File, e.Line, e.Col = p.File, p.Line, p.Col
	if e.File == "" {
		e.File = l.file
	}
	return e
}
