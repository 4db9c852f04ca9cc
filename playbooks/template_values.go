package playbooks

import (
	"math/big"
	"reflect"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// plain turns a gonja value into a kpx value: nil, bool, int, *big.Int, float64, string,
// []any or map[string]any.
func plain(v *exec.Value) any {
	if v == nil || v.IsNil() || !v.Val.IsValid() {
		return nil
	}
	if !v.Val.CanInterface() {
		return nil
	}
	return plainAny(v.Val.Interface())
}

func plainAny(x any) any {
	switch y := x.(type) {
	case nil, bool, string, float64, int, *big.Int:
		return y
	case nativeText:
		return string(y)
	case *exec.Value:
		return plain(y)
	case exec.ValuesList:
		out := make([]any, len(y))
		for i, e := range y {
			out[i] = plain(e)
		}
		return out
	case *exec.Dict:
		out := make(map[string]any, len(y.Pairs))
		for _, p := range y.Pairs {
			out[pyvalue.Str(plain(p.Key))] = plain(p.Value)
		}
		return out
	case []any:
		out := make([]any, len(y))
		for i, e := range y {
			out[i] = plainAny(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(y))
		for k, e := range y {
			out[k] = plainAny(e)
		}
		return out
	case <-chan int:
		out := []any{}
		for i := range y {
			out = append(out, i)
		}
		return out
	}
	return plainReflect(reflect.ValueOf(x))
}

// plainReflect converts the Go kinds gonja's builtins produce (typed slices, maps, sized
// numbers) into kpx values.
func plainReflect(r reflect.Value) any {
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(r.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int(r.Uint())
	case reflect.Float32, reflect.Float64:
		return r.Float()
	case reflect.Bool:
		return r.Bool()
	case reflect.String:
		return r.String()
	case reflect.Slice, reflect.Array:
		out := make([]any, r.Len())
		for i := range out {
			out[i] = plainAny(r.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, r.Len())
		it := r.MapRange()
		for it.Next() {
			out[pyvalue.Str(plainAny(it.Key().Interface()))] = plainAny(it.Value().Interface())
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if r.IsNil() {
			return nil
		}
		return plainAny(r.Elem().Interface())
	}
	return r.Interface()
}

// truthy is Python's truth value of a kpx value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int:
		return x != 0
	case *big.Int:
		return x.Sign() != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}
