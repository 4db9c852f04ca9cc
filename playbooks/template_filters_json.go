package playbooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// jsonStyle is how Python's json.dumps is asked to write.
type jsonStyle struct {
	indent   int // -1: all on one line
	sortKeys bool
	itemSep  string
	keySep   string
	ascii    bool
}

// filterToJSON is Ansible's to_json: json.dumps with Python's defaults (", " and ": "
// separators, ASCII only). Keys come out sorted: kpx maps do not keep insertion order.
func filterToJSON(in any, _ []any, kw map[string]any) (any, error) {
	st := jsonStyle{indent: -1, itemSep: ", ", keySep: ": ", ascii: true, sortKeys: true}
	if i, ok := kw["indent"].(int); ok {
		st.indent, st.itemSep = i, ","
	}
	if a, ok := kw["ensure_ascii"]; ok {
		st.ascii = truthy(a)
	}
	return dumpJSON(in, st)
}

// filterToNiceJSON is Ansible's to_nice_json(indent=4, sort_keys=True).
func filterToNiceJSON(in any, args []any, kw map[string]any) (any, error) {
	st := jsonStyle{indent: 4, itemSep: ",", keySep: ": ", ascii: true, sortKeys: true}
	if i, ok := arg(args, kw, 0, "indent", 4).(int); ok {
		st.indent = i
	}
	return dumpJSON(in, st)
}

func dumpJSON(v any, st jsonStyle) (string, error) {
	var b strings.Builder
	if err := writeJSON(&b, v, st, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeJSON(b *strings.Builder, v any, st jsonStyle, depth int) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		s := pyvalue.Float(x)
		switch s {
		case "inf":
			s = "Infinity"
		case "-inf":
			s = "-Infinity"
		case "nan":
			s = "NaN"
		}
		b.WriteString(s)
	case string:
		writeJSONString(b, x, st.ascii)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(st.itemSep)
			}
			jsonNewline(b, st, depth+1)
			if err := writeJSON(b, e, st, depth+1); err != nil {
				return err
			}
		}
		jsonNewline(b, st, depth)
		b.WriteByte(']')
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(st.itemSep)
			}
			jsonNewline(b, st, depth+1)
			writeJSONString(b, k, st.ascii)
			b.WriteString(st.keySep)
			if err := writeJSON(b, x[k], st, depth+1); err != nil {
				return err
			}
		}
		jsonNewline(b, st, depth)
		b.WriteByte('}')
	default:
		return fmt.Errorf("Object of type %T is not JSON serializable", v)
	}
	return nil
}

func jsonNewline(b *strings.Builder, st jsonStyle, depth int) {
	if st.indent >= 0 {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", st.indent*depth))
	}
}

// writeJSONString quotes s as Python's json module does.
func writeJSONString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (ascii && r > 0x7e):
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// filterFromJSON is json.loads.
func filterFromJSON(in any, _ []any, _ map[string]any) (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(pyvalue.Str(in))))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("from_json: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("from_json: extra data")
	}
	return fromJSONValue(v), nil
}

// fromJSONValue turns json.Number into int, *big.Int or float64, as Python's json does.
func fromJSONValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, ok := new(big.Int).SetString(string(x), 10); ok {
			return normInt(i)
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case []any:
		for i, e := range x {
			x[i] = fromJSONValue(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSONValue(e)
		}
	}
	return v
}
