package redact

import (
	"bytes"
	"encoding/json"
)

// Value returns a deep copy of v in which the value of every sensitive field is replaced by
// Mask, at any depth of maps and slices. Sensitive fields are WellKnown plus extra, matched as
// the package comment describes. An extra may be a dotted path such as "employee.salary",
// meaning the salary field of an employee object; the path matches wherever that object sits
// (slices are transparent, so it also covers "employees": [{"salary": ...}]), and a "*"
// segment matches any key.
//
// String values anywhere in v also pass through String, so a credential pasted into a free
// text field ("psql postgres://app:s3cret@db") is masked too. A sensitive field whose value is
// null stays null: it reveals nothing.
//
// v may be any JSON-encodable value. Maps of type map[string]any and slices of type []any are
// walked directly; every other composite (structs, typed maps and slices, pointers) is first
// round-tripped through encoding/json, so the result holds only JSON types (map[string]any,
// []any, string, bool, nil, json.Number and the numbers v already held) and struct fields are
// seen under their JSON names. A value that cannot be encoded is replaced by Mask as a whole,
// since it cannot be inspected. Value never mutates v.
func Value(v any, extra ...string) any {
	return matcherFor(extra).value(v, nil)
}

func (m *matcher) value(v any, parents []string) any {
	switch x := v.(type) {
	case nil, bool, json.Number,
		float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64:
		return x
	case string:
		return m.text(x)
	case map[string]any:
		if x == nil {
			return map[string]any(nil)
		}
		out := make(map[string]any, len(x))
		for k, val := range x {
			if m.sensitive(k, parents) {
				if val == nil {
					out[k] = nil
				} else {
					out[k] = Mask
				}
				continue
			}
			// The three-index slice makes append copy, so siblings never share a path.
			out[k] = m.value(val, append(parents[:len(parents):len(parents)], normalize(k)))
		}
		return out
	case []any:
		if x == nil {
			return []any(nil)
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.value(e, parents)
		}
		return out
	default:
		j, ok := toJSON(x)
		if !ok {
			return Mask
		}
		return m.value(j, parents)
	}
}

// toJSON converts v to its encoding/json form, keeping numbers exact as json.Number.
func toJSON(v any) (any, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, false
	}
	return out, true
}
