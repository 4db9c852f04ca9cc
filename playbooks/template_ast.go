package playbooks

import (
	"reflect"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// reprFilter is the internal filter every `{{ ... }}` output goes through, so that values
// print as Python's str() prints them (None, True, 3.0, ['a'], {'k': 1}).
const reprFilter = "__kpx_str"

// walkNodes calls fn on every pointer (nodes, test and filter calls) reachable from root
// through exported fields, once.
func walkNodes(root nodes.Node, fn func(any)) {
	seen := map[uintptr]bool{}
	var visit func(v reflect.Value)
	visit = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				visit(v.Elem())
			}
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			if v.CanInterface() {
				fn(v.Interface())
			}
			visit(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					visit(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				visit(v.Index(i))
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				visit(it.Value())
			}
		}
	}
	visit(reflect.ValueOf(root))
}

// arithFilter is the internal filter computing Python's arithmetic (gonja's gives floats
// for **, truncates //, lacks % formatting and adds strings to numbers).
const arithFilter = "__kpx_arith"

// rewriteOutputs adjusts a parsed template to Jinja's meaning where gonja differs: every
// output expression goes through reprFilter, the arguments of `is test(a, b)` become
// separate arguments (gonja parses them as one tuple), and arithmetic goes through
// arithFilter.
func rewriteOutputs(root *nodes.Template) {
	walkNodes(root, func(n any) {
		switch x := n.(type) {
		case *nodes.Output:
			x.Expression = withRepr(x.Expression)
			if x.Alternative != nil {
				x.Alternative = withRepr(x.Alternative)
			}
		case *nodes.TestCall:
			if len(x.Args) == 1 {
				if tuple, ok := x.Args[0].(*nodes.Tuple); ok {
					x.Args = tuple.Val
				}
			}
		case *nodes.BinaryExpression:
			rewriteArith(x)
		}
	})
}

// rewriteArith turns `a OP b` into `true and (a | __kpx_arith('OP', b))`, in place.
func rewriteArith(x *nodes.BinaryExpression) {
	if x.Operator == nil || x.Operator.Token == nil {
		return
	}
	tok := x.Operator.Token
	switch tok.Type {
	case tokens.Power, tokens.FloorDivision, tokens.Division, tokens.Modulo,
		tokens.Addition, tokens.Subtraction, tokens.Multiply, tokens.Tilde,
		tokens.Equals, tokens.Ne, tokens.LowerThan, tokens.LowerThanOrEqual,
		tokens.GreaterThan, tokens.GreaterThanOrEqual:
	default:
		return
	}
	opName := tok.Val
	if _, isTuple := x.Right.(*nodes.Tuple); isTuple && tok.Type == tokens.Modulo {
		opName = tupleFormatOp // `fmt % (a, b)`: each item is an argument
	}
	op := &nodes.String{Location: tok, Val: opName}
	x.Right = &nodes.FilteredExpression{
		Expression: x.Left,
		Filters: []*nodes.FilterCall{{Token: tok, Name: arithFilter,
			Args: []nodes.Expression{op, x.Right}, Kwargs: map[string]nodes.Expression{}}},
	}
	x.Left = &nodes.Bool{Location: tok, Val: true}
	andTok := *tok
	andTok.Type, andTok.Val = tokens.And, "and"
	x.Operator = &nodes.BinOperator{Token: &andTok}
}

func withRepr(e nodes.Expression) nodes.Expression {
	if e == nil {
		return nil
	}
	if f, ok := e.(*nodes.FilteredExpression); ok && len(f.Filters) > 0 && f.Filters[len(f.Filters)-1].Name == reprFilter {
		return e
	}
	return &nodes.FilteredExpression{
		Expression: e,
		Filters:    []*nodes.FilterCall{{Token: e.Position(), Name: reprFilter, Kwargs: map[string]nodes.Expression{}}},
	}
}

// templateNames returns the variable names a template refers to.
func templateNames(root *nodes.Template) map[string]bool {
	names := map[string]bool{}
	walkNodes(root, func(n any) {
		if name, ok := n.(*nodes.Name); ok && name.Name != nil {
			names[name.Name.Val] = true
		}
	})
	return names
}

// templateCalls returns the filter and test names a template uses.
func templateCalls(root *nodes.Template) (filters, tests []string) {
	walkNodes(root, func(n any) {
		switch x := n.(type) {
		case *nodes.FilterCall:
			filters = append(filters, x.Name)
		case *nodes.TestCall:
			tests = append(tests, x.Name)
		}
	})
	return filters, tests
}
