package rollout

import "reflect"

// maskEvent returns a copy of ev in which mask has rewritten every string: the task
// names, messages, results, items and warnings it carries. The original is left alone
// (results are shared with registered variables). Only values of type string are
// rewritten: typed strings (Status) and map keys are names, not data.
func maskEvent(ev Event, mask func(string) string) Event {
	v := maskValue(reflect.ValueOf(ev), mask, 0)
	if out, ok := v.Interface().(Event); ok {
		return out
	}
	return ev
}

var stringType = reflect.TypeFor[string]()

// maxMaskDepth bounds the walk; events are trees far shallower than this.
const maxMaskDepth = 200

func maskValue(v reflect.Value, mask func(string) string, depth int) reflect.Value {
	if !v.IsValid() || depth > maxMaskDepth {
		return v
	}
	switch v.Kind() {
	case reflect.String:
		if v.Type() != stringType {
			return v
		}
		if m := mask(v.String()); m != v.String() {
			return reflect.ValueOf(m)
		}
		return v
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		inner := maskValue(v.Elem(), mask, depth+1)
		out := reflect.New(v.Type()).Elem()
		out.Set(inner)
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(maskValue(v.Elem(), mask, depth+1))
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), maskValue(it.Value(), mask, depth+1))
		}
		return out
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(maskValue(v.Index(i), mask, depth+1))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(maskValue(v.Index(i), mask, depth+1))
		}
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v) // unexported fields too
		for i := range v.NumField() {
			if f := out.Field(i); f.CanSet() {
				f.Set(maskValue(v.Field(i), mask, depth+1))
			}
		}
		return out
	}
	return v
}
