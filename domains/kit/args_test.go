package kit_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// requireInvalid checks that err is a CodeInvalid *domains.Error whose message contains msg.
func requireInvalid(tb testing.TB, err error, msg string) {
	tb.Helper()
	var de *domains.Error
	require.ErrorAs(tb, err, &de)
	require.Equal(tb, domains.CodeInvalid, de.Code, "error: %v", err)
	require.Contains(tb, de.Message, msg)
}

func TestStringArg(t *testing.T) {
	tests := []struct {
		name     string
		args     map[string]any
		required bool
		want     string
		wantErr  string
	}{
		{"OK trimmed", map[string]any{"q": "  Grace Liu "}, true, "Grace Liu", ""},
		{"OK absent optional", map[string]any{}, false, "", ""},
		{"OK null optional", map[string]any{"q": nil}, false, "", ""},
		{"OK nil args optional", nil, false, "", ""},
		{"OK blank optional", map[string]any{"q": "   "}, false, "", ""},
		{"ErrAbsentRequired", map[string]any{}, true, "", "q is required"},
		{"ErrNullRequired", map[string]any{"q": nil}, true, "", "q is required"},
		{"ErrBlankRequired", map[string]any{"q": " \t"}, true, "", "q must not be empty"},
		{"ErrNotAString", map[string]any{"q": 7}, false, "", "q must be a string"},
		{"ErrNotAStringRequired", map[string]any{"q": []any{"x"}}, true, "", "q must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kit.StringArg(tc.args, "q", tc.required)
			if tc.wantErr != "" {
				requireInvalid(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		name   string
		v      any
		want   float64
		wantOK bool
	}{
		{"OK int", 3, 3, true},
		{"OK int32", int32(-4), -4, true},
		{"OK int64", int64(1) << 40, 1 << 40, true},
		{"OK float64", 2.5, 2.5, true},
		{"OK json.Number", json.Number("12.75"), 12.75, true},
		{"ErrBadJSONNumber", json.Number("twelve"), 0, false},
		{"ErrString", "3", 0, false},
		{"ErrBool", true, 0, false},
		{"ErrNil", nil, 0, false},
		{"ErrFloat32", float32(1), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := kit.Number(tc.v)
			require.Equal(t, tc.wantOK, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestIntArg(t *testing.T) {
	const def, lo, hi = 20, 1, 100
	tests := []struct {
		name    string
		args    map[string]any
		want    int
		wantErr bool
	}{
		{"OK absent is the default", map[string]any{}, def, false},
		{"OK null is the default", map[string]any{"n": nil}, def, false},
		{"OK nil args", nil, def, false},
		{"OK int", map[string]any{"n": 7}, 7, false},
		{"OK int64", map[string]any{"n": int64(8)}, 8, false},
		{"OK whole float from JSON", map[string]any{"n": 9.0}, 9, false},
		{"OK json.Number", map[string]any{"n": json.Number("10")}, 10, false},
		{"OK lower bound", map[string]any{"n": lo}, lo, false},
		{"OK upper bound", map[string]any{"n": hi}, hi, false},
		{"ErrBelow", map[string]any{"n": 0}, 0, true},
		{"ErrAbove", map[string]any{"n": 101}, 0, true},
		{"ErrFraction", map[string]any{"n": 2.5}, 0, true},
		{"ErrNaN", map[string]any{"n": math.NaN()}, 0, true},
		{"ErrInfinity", map[string]any{"n": math.Inf(1)}, 0, true},
		{"ErrString", map[string]any{"n": "5"}, 0, true},
		{"ErrBadJSONNumber", map[string]any{"n": json.Number("5x")}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kit.IntArg(tc.args, "n", def, lo, hi)
			if tc.wantErr {
				requireInvalid(t, err, "n must be an integer between 1 and 100")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestIntValue(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := kit.IntValue(3.0, "items[0].quantity", 1, 1000)
		require.NoError(t, err)
		require.Equal(t, 3, got)
	})
	t.Run("ErrAbsent", func(t *testing.T) {
		_, err := kit.IntValue(nil, "items[0].quantity", 1, 1000)
		requireInvalid(t, err, "items[0].quantity must be an integer between 1 and 1000")
	})
}
