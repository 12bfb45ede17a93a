package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/store"
)

func TestUnstorable(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"OK plain", map[string]any{"a": "x", "b": []any{"y", 1.0, true, nil}}, nil},
		{"ErrNUL top", "a\x00b", []string{""}},
		{"ErrNUL nested", map[string]any{"items": []any{map[string]any{"note": "n\x00"}}}, []string{"items.0.note"}},
		{"ErrInvalidUTF8", map[string]any{"k": "\xff\xfe"}, []string{"k"}},
		{"ErrKey", map[string]any{"bad\x00key": "v"}, []string{"bad\uFFFDkey"}},
		{"ErrSeveral sorted", map[string]any{"z": "\x00", "a": "\x00"}, []string{"a", "z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, store.Unstorable(tc.v))
		})
	}
}

func TestSanitize(t *testing.T) {
	in := map[string]any{"k\x00": []any{"a\x00", "\xff", 2.0}, "ok": "fine"}
	got := store.Sanitize(in).(map[string]any)
	require.Equal(t, map[string]any{"k\uFFFD": []any{"a\uFFFD", "\uFFFD", 2.0}, "ok": "fine"}, got)
	require.Empty(t, store.Unstorable(got))
	require.Contains(t, in, "k\x00", "the input is not changed")
	require.True(t, store.StorableText("héllo"))
	require.False(t, store.StorableText("a\x00"))
}
