package playbooks

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// filterArith computes `in OP right` for **, //, / and % with Python's meaning.
func filterArith(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if len(p.Args) != 2 {
		return exec.AsValue(fmt.Errorf("internal: arith needs an operator and an operand"))
	}
	if p.Args[1].IsError() {
		return p.Args[1]
	}
	op, _ := plain(p.Args[0]).(string)
	v, err := pyArith(op, plain(in), plain(p.Args[1]))
	if err != nil {
		return exec.AsValue(err)
	}
	return exec.AsValue(v)
}

// maxRepeat bounds the length of a string or list built by `*`.
const maxRepeat = 1 << 24

func pyArith(op string, a, b any) (any, error) {
	if s, ok := a.(string); ok && (op == "%" || op == tupleFormatOp) {
		if op == "%" {
			b = []any{b}
		}
		return pyPercentFormat(s, b.([]any))
	}
	if op == tupleFormatOp {
		op = "%"
	}
	switch op {
	case "~":
		return pyvalue.Str(a) + pyvalue.Str(b), nil
	case "==":
		return pyEqual(a, b), nil
	case "!=":
		return !pyEqual(a, b), nil
	case "<", ">", "<=", ">=":
		return pyCompare(op, a, b)
	}
	if v, ok, err := pySequenceArith(op, a, b); ok {
		return v, err
	}
	ai, aInt := pyIntValue(a)
	bi, bInt := pyIntValue(b)
	af, aNum := pyFloatValue(a)
	bf, bNum := pyFloatValue(b)
	if !aNum || !bNum {
		return nil, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, pyvalue.TypeName(a), pyvalue.TypeName(b))
	}
	if (op == "//" || op == "%" || op == "/") && bf == 0 {
		return nil, fmt.Errorf("division by zero")
	}
	switch {
	case op == "/":
		return af / bf, nil
	case aInt && bInt && op == "//":
		q, m := new(big.Int).DivMod(ai, bi, new(big.Int))
		if m.Sign() != 0 && bi.Sign() < 0 {
			q.Add(q, big.NewInt(1)) // DivMod is Euclidean; Python floors
		}
		return normInt(q), nil
	case aInt && bInt && op == "%":
		return normInt(new(big.Int).Sub(ai, new(big.Int).Mul(bi, floorDivInt(ai, bi)))), nil
	case aInt && bInt && op == "+":
		return normInt(new(big.Int).Add(ai, bi)), nil
	case aInt && bInt && op == "-":
		return normInt(new(big.Int).Sub(ai, bi)), nil
	case aInt && bInt && op == "*":
		return normInt(new(big.Int).Mul(ai, bi)), nil
	case op == "+":
		return af + bf, nil
	case op == "-":
		return af - bf, nil
	case op == "*":
		return af * bf, nil
	case aInt && bInt && op == "**" && bi.Sign() >= 0:
		if !bi.IsInt64() || int64(ai.BitLen())*bi.Int64() > 1<<16 {
			return nil, fmt.Errorf("integer power too large for kpx")
		}
		return normInt(new(big.Int).Exp(ai, bi, nil)), nil
	case op == "//":
		return math.Floor(af / bf), nil
	case op == "%":
		m := math.Mod(af, bf)
		if m != 0 && (m < 0) != (bf < 0) {
			m += bf
		}
		return m, nil
	case op == "**":
		return math.Pow(af, bf), nil
	}
	return nil, fmt.Errorf("unsupported operator %s", op)
}

// pySequenceArith handles + and * on strings and lists; ok is false for other operands.
func pySequenceArith(op string, a, b any) (v any, ok bool, err error) {
	switch op {
	case "+":
		if x, isStr := a.(string); isStr {
			y, isStr := b.(string)
			if !isStr {
				return nil, true, fmt.Errorf("can only concatenate str (not \"%s\") to str", pyvalue.TypeName(b))
			}
			return x + y, true, nil
		}
		if x, isList := a.([]any); isList {
			y, isList := b.([]any)
			if !isList {
				return nil, true, fmt.Errorf("can only concatenate list (not \"%s\") to list", pyvalue.TypeName(b))
			}
			return append(append([]any{}, x...), y...), true, nil
		}
	case "*":
		if _, isInt := pyIntValue(a); isInt {
			a, b = b, a
		}
		n, isInt := pyIntValue(b)
		switch x := a.(type) {
		case string:
			if !isInt {
				return nil, true, fmt.Errorf("can't multiply sequence by non-int of type '%s'", pyvalue.TypeName(b))
			}
			if n.Sign() <= 0 {
				return "", true, nil
			}
			if !n.IsInt64() || n.Int64()*int64(len(x)) > maxRepeat {
				return nil, true, fmt.Errorf("repeated string too long for kpx")
			}
			return strings.Repeat(x, int(n.Int64())), true, nil
		case []any:
			if !isInt {
				return nil, true, fmt.Errorf("can't multiply sequence by non-int of type '%s'", pyvalue.TypeName(b))
			}
			out := []any{}
			if n.Sign() > 0 && (!n.IsInt64() || n.Int64()*int64(len(x)) > maxRepeat) {
				return nil, true, fmt.Errorf("repeated list too long for kpx")
			}
			for i := int64(0); i < n.Int64(); i++ {
				out = append(out, x...)
			}
			return out, true, nil
		}
	}
	return nil, false, nil
}

// pyCompare is Python's ordering operators.
func pyCompare(op string, a, b any) (bool, error) {
	if op == ">" || op == ">=" {
		a, b = b, a
	}
	less, err := pyLess(a, b, true)
	if err != nil {
		return false, err
	}
	if op == "<=" || op == ">=" {
		return less || pyEqual(a, b), nil
	}
	return less, nil
}

func floorDivInt(a, b *big.Int) *big.Int {
	q, m := new(big.Int).DivMod(a, b, new(big.Int))
	if m.Sign() != 0 && b.Sign() < 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// pyIntValue returns an int or bool as a big.Int.
func pyIntValue(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case int:
		return big.NewInt(int64(x)), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

// pyFloatValue returns a number (bools included) as a float64.
func pyFloatValue(v any) (float64, bool) {
	if f, ok := v.(float64); ok {
		return f, true
	}
	if i, ok := pyIntValue(v); ok {
		f, _ := new(big.Float).SetInt(i).Float64()
		return f, true
	}
	return 0, false
}

// tupleFormatOp is the arithmetic operator of `fmt % (a, b)`, whose right side is a tuple
// literal: its items are the arguments, where any other value is the only argument.
const tupleFormatOp = "%()"

// pyPercentFormat is Python's `format % args` for the common conversions
// (s, r, d, i, f, F, e, g, x, X, o, %) with flags, width and precision.
func pyPercentFormat(format string, list []any) (any, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0123456789.", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			return nil, fmt.Errorf("incomplete format")
		}
		spec, conv := format[i+1:j], format[j]
		i = j
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if next >= len(list) {
			return nil, fmt.Errorf("not enough arguments for format string")
		}
		s, err := formatOne(spec, conv, list[next])
		if err != nil {
			return nil, err
		}
		next++
		b.WriteString(s)
	}
	if next < len(list) {
		return nil, fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

func formatOne(spec string, conv byte, v any) (string, error) {
	switch conv {
	case 's':
		return fmt.Sprintf("%"+spec+"s", pyvalue.Str(v)), nil
	case 'r':
		return fmt.Sprintf("%"+spec+"s", pyvalue.Repr(v)), nil
	case 'd', 'i', 'x', 'X', 'o':
		f, ok := pyFloatValue(v)
		if !ok {
			return "", fmt.Errorf("%%%c format: a number is required, not %s", conv, pyvalue.TypeName(v))
		}
		verb := map[byte]string{'d': "d", 'i': "d", 'x': "x", 'X': "X", 'o': "o"}[conv]
		if i, ok := pyIntValue(v); ok {
			return fmt.Sprintf("%"+spec+verb, i), nil
		}
		return fmt.Sprintf("%"+spec+verb, int64(math.Trunc(f))), nil
	case 'f', 'F', 'e', 'E', 'g', 'G':
		f, ok := pyFloatValue(v)
		if !ok {
			return "", fmt.Errorf("must be real number, not %s", pyvalue.TypeName(v))
		}
		if !strings.Contains(spec, ".") && conv != 'g' && conv != 'G' {
			spec += ".6"
		}
		return fmt.Sprintf("%"+spec+strconv.QuoteRune(rune(conv))[1:2], f), nil
	}
	return "", fmt.Errorf("unsupported format character '%c'", conv)
}
