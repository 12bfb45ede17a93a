package store

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Postgres text and jsonb cannot hold a NUL character or invalid UTF-8: a value with either
// fails the whole write. The edges refuse such input (Unstorable names where it is); what must
// be written anyway (an audit row of the refusal, what an LLM said) goes through Sanitize.

// StorableText reports whether s can be stored in a text or jsonb column.
func StorableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Unstorable returns the dotted paths ("items.0.note", "" for v itself) of the strings and
// object keys in a decoded JSON value that Postgres cannot store, sorted.
func Unstorable(v any) []string {
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case string:
			if !StorableText(x) {
				out = append(out, path)
			}
		case map[string]any:
			for k, e := range x {
				p := join(path, k)
				if !StorableText(k) {
					out = append(out, join(path, SanitizeText(k)))
					continue
				}
				walk(p, e)
			}
		case []any:
			for i, e := range x {
				walk(join(path, strconv.Itoa(i)), e)
			}
		}
	}
	walk("", v)
	sort.Strings(out)
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// SanitizeText makes s storable: invalid UTF-8 and NUL characters become U+FFFD.
func SanitizeText(s string) string {
	if StorableText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Sanitize returns a copy of a decoded JSON value (maps, slices, strings, scalars) whose
// strings and keys are all storable; v itself is not changed. Other values pass through.
func Sanitize(v any) any {
	switch x := v.(type) {
	case string:
		return SanitizeText(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[SanitizeText(k)] = Sanitize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Sanitize(e)
		}
		return out
	default:
		return v
	}
}
