package redact

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"sync"
)

// Handler wraps h so that nothing sensitive reaches it: attributes under sensitive keys
// (WellKnown plus extra, in any naming style, inside groups too) are replaced by Mask, string
// values and the message pass through String, error values are logged as their redacted text,
// and maps, slices and structs are redacted with Value. Attributes given to WithAttrs are
// redacted once, when the derived handler first handles a record: loggers derived for every
// request (the Temporal server makes one per call) and never written to cost no redaction.
// Group names take part in dotted extra paths, so "employee.salary" masks
// slog.Group("employee", "salary", 1).
func Handler(h slog.Handler, extra ...string) slog.Handler {
	root := &handler{m: newMatcher(extra), root: h}
	root.once.Do(func() { root.inner = h })
	return root
}

// handler is one step of a chain of derived handlers: the root wraps the inner handler, and
// each WithAttrs or WithGroup adds a step whose inner handler is built from its parent's on
// first use.
type handler struct {
	m      *matcher
	root   slog.Handler // the wrapped handler, for Enabled (levels do not depend on attributes)
	groups []string     // normalised names of the open groups, for dotted paths

	parent *handler    // nil for the root
	attrs  []slog.Attr // a WithAttrs step's attributes, not yet redacted
	group  string      // a WithGroup step's group name

	once  sync.Once
	inner slog.Handler
}

// resolved is the inner handler with this step's attributes (redacted) or group added.
func (h *handler) resolved() slog.Handler {
	h.once.Do(func() {
		p := h.parent.resolved()
		if h.group != "" {
			h.inner = p.WithGroup(h.group)
			return
		}
		red := make([]slog.Attr, len(h.attrs))
		for i, a := range h.attrs {
			red[i] = h.m.attr(a, h.parent.groups)
		}
		h.inner, h.attrs = p.WithAttrs(red), nil
	})
	return h.inner
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.root.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.m.text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.m.attr(a, h.groups))
		return true
	})
	return h.resolved().Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &handler{m: h.m, root: h.root, groups: h.groups, parent: h, attrs: slices.Clone(attrs)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{m: h.m, root: h.root, groups: append(slices.Clip(h.groups), normalize(name)), parent: h, group: name}
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
