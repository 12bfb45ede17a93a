package redact

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
)

// Handler wraps h so that nothing sensitive reaches it: attributes under sensitive keys
// (WellKnown plus extra, in any naming style, inside groups too) are replaced by Mask, string
// values and the message pass through String, error values are logged as their redacted text,
// and maps, slices and structs are redacted with Value. Attributes given to WithAttrs are
// redacted once, when they are added. Group names take part in dotted extra paths, so
// "employee.salary" masks slog.Group("employee", "salary", 1).
func Handler(h slog.Handler, extra ...string) slog.Handler {
	return &handler{inner: h, m: newMatcher(extra)}
}

type handler struct {
	inner  slog.Handler
	m      *matcher
	groups []string // normalised names of the open groups, for dotted paths
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.m.text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.m.attr(a, h.groups))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.m.attr(a, h.groups)
	}
	return &handler{inner: h.inner.WithAttrs(red), m: h.m, groups: h.groups}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{
		inner:  h.inner.WithGroup(name),
		m:      h.m,
		groups: append(slices.Clip(h.groups), normalize(name)),
	}
}

// attr returns a redacted copy of a, found inside the groups parents.
func (m *matcher) attr(a slog.Attr, parents []string) slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Key != "" && m.sensitive(a.Key, parents) {
		return slog.String(a.Key, Mask)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(m.text(a.Value.String()))
	case slog.KindGroup:
		inner := parents
		if a.Key != "" { // An empty key inlines the group's attributes.
			inner = append(slices.Clip(parents), normalize(a.Key))
		}
		group := a.Value.Group()
		red := make([]slog.Attr, len(group))
		for i, g := range group {
			red[i] = m.attr(g, inner)
		}
		a.Value = slog.GroupValue(red...)
	case slog.KindAny:
		a.Value = m.anyValue(a.Value.Any(), parents, a.Key)
	}
	return a
}

// anyValue redacts the value of a KindAny attribute.
func (m *matcher) anyValue(v any, parents []string, key string) slog.Value {
	switch x := v.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(m.text(x.Error()))
	case []byte:
		return slog.StringValue(m.text(string(x)))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return slog.StringValue(m.text(rv.String()))
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct, reflect.Pointer, reflect.Interface:
		inner := parents
		if key != "" {
			inner = append(slices.Clip(parents), normalize(key))
		}
		return slog.AnyValue(m.value(v, inner))
	default:
		// Numbers, booleans and the like cannot hold a secret beyond what the key says.
		return slog.AnyValue(v)
	}
}
